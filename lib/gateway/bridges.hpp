// Private: the gateway's bridges — the "bridges" config array and the running
// net::bridge connections fed from and into the broker.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/net/bridge.hpp>

#include <rapidjson/document.h>

#include <memory>
#include <string>
#include <vector>

namespace iotblocks::gateway {

/// Reads the "bridges" array; errors name the JSON path ("bridges[0].topics[1].qos: ...").
result<std::vector<net::bridge_options>> read_bridges(const rapidjson::Value& array);

/// Parses one mosquitto `topic` value: `pattern [[[out|in|both] qos] local remote]`,
/// with "" as the empty marker.
result<net::bridge_topic> parse_topic_line(std::string_view line);

/// The running bridges: one io_context thread, messages from upstream published
/// into the broker marked with publisher "$bridge/<name>", local messages offered to
/// every bridge but the one they came from. Shared objects: offer() is safe.
class bridge_set {
 public:
  bridge_set(broker::broker& b, const std::vector<net::bridge_options>& options);
  ~bridge_set();
  bridge_set(const bridge_set&) = delete;
  bridge_set& operator=(const bridge_set&) = delete;

  void start();
  /// Disconnects cleanly (bounded wait) and joins the thread.
  void stop();
  /// A message the broker accepted.
  void offer(const broker::message& m);
  /// Prometheus lines (iotblocks_bridge_*{bridge="<name>"}).
  std::string metrics_text() const;

  static std::string marker(std::string_view name) { return "$bridge/" + std::string(name); }

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::gateway
