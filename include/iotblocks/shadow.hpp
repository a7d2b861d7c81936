// iotblocks shadow: AWS IoT Device Shadow semantics — the document model (merge, delta,
// metadata, versions, errors), stores (memory, SQLite with group commit), the service,
// the MQTT topic router and an HTTP-shaped API. See docs/shadow.md.
#pragma once

#include <iotblocks/shadow/document.hpp>
#include <iotblocks/shadow/error.hpp>
#include <iotblocks/shadow/limits.hpp>
#include <iotblocks/shadow/service.hpp>
#include <iotblocks/shadow/store.hpp>
