// The broker bound to net's TCP, TLS and WebSocket server.
#pragma once

#include <iotblocks/net_broker/handler.hpp>
