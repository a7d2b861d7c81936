// iotblocks-bench --http: publishes over HTTP (`POST /topics/<topic>?qos=0`, as
// `aws iot-data publish` sends them), signed with SigV4 when an access key is given,
// over keep-alive connections with one request outstanding each. Reports requests/s,
// latency percentiles and, with --server-pid, the server's CPU time per request.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace iotblocks::bench {

struct http_publish_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  unsigned connections = 1;
  std::size_t payload = 128;
  double duration = 10;
  std::string access_key_id;  ///< empty: unsigned requests
  std::string secret;
  std::string region = "us-east-1";
  int server_pid = 0;  ///< 0: the server's CPU time is not reported
  std::string label;
};

/// Runs the load and prints one JSON object; 0 on success, 2 when a connection failed.
int run_http_publish(const http_publish_config& cfg);

}  // namespace iotblocks::bench
