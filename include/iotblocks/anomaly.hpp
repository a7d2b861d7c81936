// iotblocks anomaly: streaming anomaly detection (PEWMA and better detectors),
// keyed per-series state with snapshots, series CSV input and the NAB scorer.
#pragma once

#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/keyed_store.hpp>
#include <iotblocks/anomaly/nab.hpp>
#include <iotblocks/anomaly/pewma.hpp>
#include <iotblocks/anomaly/series_csv.hpp>
