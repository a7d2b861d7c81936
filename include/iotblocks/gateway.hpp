// iotblocks gateway: the MQTT broker and the reference gateway composing every component.
#pragma once

#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>
