// iotblocks broker: the MQTT 3.1.1/5.0 broker as a sans-I/O block, with its stores.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/broker/memory_store.hpp>
#include <iotblocks/broker/sqlite_store.hpp>
