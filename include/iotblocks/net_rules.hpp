// The rules engine's HTTP and TCP transports over Asio.
#pragma once

#include <iotblocks/net_rules/transports.hpp>
