// The rules engine: AWS IoT topic rules with embedded actions.
#pragma once

#include <iotblocks/rules/action.hpp>
#include <iotblocks/rules/document.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/rules/error.hpp>
#include <iotblocks/rules/item_store.hpp>
#include <iotblocks/rules/metrics.hpp>
#include <iotblocks/rules/mqtt_properties.hpp>
#include <iotblocks/rules/notify.hpp>
#include <iotblocks/rules/transport.hpp>
