// iotblocks-bench --connect-storm: N MQTT clients connect over TLS 1.3 (TCP
// connect, handshake, CONNECT, CONNACK awaited, DISCONNECT, the broker closes),
// --concurrency at a time. With resumption on, each connection offers the
// session ticket its worker got on its previous connection; the result counts
// how many handshakes the server resumed (SSL_session_reused). Prints one JSON
// object: connects/s, failures, resumed, connect latency percentiles.
//
// Distinct objects: safe. Shared objects: unsafe.
#pragma once

#include <cstdint>
#include <string>

namespace iotblocks::bench {

struct tls_storm_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8883;
  std::string ca_file;  ///< verifies the server; empty: no verification
  unsigned clients = 10000;
  unsigned concurrency = 32;
  unsigned threads = 1;
  bool resume = true;
  std::string label;
};

/// Runs the storm; 0 when it ran (failures are in the JSON), 2 when the TLS setup failed.
int run_tls_storm(const tls_storm_config& cfg);

}  // namespace iotblocks::bench
