// iotblocks core: error codes, result type, byte helpers and the injectable clock.
#pragma once

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/error.hpp>
#include <iotblocks/core/failure_message.hpp>
#include <iotblocks/core/peer.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/core/utf8.hpp>
#include <iotblocks/core/version.hpp>
