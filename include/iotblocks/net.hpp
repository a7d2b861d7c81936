// Asio/Beast transports: HTTP(S) and TCP command clients.
#pragma once

#include <iotblocks/net/error.hpp>
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/net/tcp_client.hpp>
