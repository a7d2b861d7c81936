// iotblocks mqtt: MQTT 3.1, 3.1.1 and 5.0 codec, sans-I/O, strict and zero-copy.
#pragma once

#include <iotblocks/mqtt/decoder.hpp>
#include <iotblocks/mqtt/encoder.hpp>
#include <iotblocks/mqtt/error.hpp>
#include <iotblocks/mqtt/json.hpp>
#include <iotblocks/mqtt/packet.hpp>
#include <iotblocks/mqtt/properties.hpp>
