// Named notification topics with subscriptions, modelled on SNS: the `sns`
// action and alarm actions publish to a topic (by ARN or name), and every
// subscription's sink receives the message: a webhook over HTTP(S), a command
// to a TCP device (both through a transport, see transport.hpp), a log line, or
// an application callback.
//
//   rules::notifier n{"us-east-1", "000000000000"};
//   auto arn = n.create_topic("Sunshades");   // arn:aws:sns:us-east-1:000000000000:Sunshades
//   auto http = std::make_shared<net_rules::http_client_transport>();
//   auto tcp = std::make_shared<net_rules::tcp_command_transport>();
//   n.subscribe(arn, rules::webhook_sink(http, "https://ops.example/hook"));
//   n.subscribe(arn, rules::tcp_command_sink(tcp, "192.0.2.7", 4998,
//                                            "sendir,1:1,15,37993,...\r", "completeir"));
//   auto r = n.publish(arn, R"({"AlarmName":"Trigger_SunShade_Open"})");
//   r.failures.empty();   // every sink took it
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/rules/error.hpp>
#include <iotblocks/rules/transport.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::rules {

/// One notification as a sink receives it. Views are valid during deliver() only.
struct notification {
  std::string_view topic_arn;
  std::string_view message;  ///< for messageFormat JSON: the sink's protocol entry
  std::string_view subject;
  std::string_view message_id;
  std::int64_t timestamp_ms = 0;
};

/// Where a subscription delivers. deliver() blocks (bounded by the sink's timeouts)
/// and is called from the engine's workers. Implementations must be thread-safe.
class notification_sink {
 public:
  virtual ~notification_sink() = default;
  /// Key into a messageFormat JSON message ("http", "https", "tcp", "log", "callback").
  virtual std::string_view protocol() const noexcept = 0;
  /// Names the endpoint in errors and listings.
  virtual std::string endpoint() const = 0;
  virtual result<void> deliver(const notification& n) = 0;
};

struct webhook_options {
  std::vector<std::pair<std::string, std::string>> headers;
  /// true: POST the message alone; false: POST SNS's JSON envelope
  /// {"Type":"Notification","MessageId",...,"Message":...}.
  bool raw_message_delivery = false;
  std::optional<std::chrono::milliseconds> timeout;  ///< none: the transport's default
};

/// POSTs each notification to `url` through `transport`; a status outside 2xx is a
/// failure, and so is every delivery when `transport` is null (error::no_such_destination).
std::shared_ptr<notification_sink> webhook_sink(std::shared_ptr<http_transport> transport,
                                                std::string url, webhook_options options = {});

/// Sends `command` (or the message itself when `command` is empty) to host:port through
/// `transport` and waits for a reply containing `expect` (any line when empty); a null
/// `transport` fails every delivery (error::no_such_destination). `timeout`: none, the
/// transport's default.
std::shared_ptr<notification_sink> tcp_command_sink(
    std::shared_ptr<command_transport> transport, std::string host, std::uint16_t port,
    std::string command = {}, std::string expect = {},
    std::optional<std::chrono::milliseconds> timeout = {});

/// Writes one line per notification through `writer` (standard error when empty).
std::shared_ptr<notification_sink> log_sink(std::function<void(std::string_view)> writer = {});

/// Calls `fn` for each notification; a failure it returns is a delivery failure.
std::shared_ptr<notification_sink> callback_sink(
    std::function<result<void>(const notification&)> fn);

enum class message_format : std::uint8_t {
  raw,   ///< every sink gets the message as is
  json,  ///< the message is {"default": "...", "<protocol>": "..."}; each sink gets its entry
};

/// Outcome of one publish: which subscriptions took the message and which did not.
struct publish_result {
  std::string message_id;
  std::vector<std::string> delivered;                     ///< subscription ARNs
  std::vector<std::pair<std::string, failure>> failures;  ///< subscription ARN, why
};

/// Topics and subscriptions. Distinct objects: safe. Shared objects: safe.
class notifier {
 public:
  explicit notifier(std::string region = "us-east-1", std::string account = "000000000000");
  ~notifier();
  notifier(const notifier&) = delete;
  notifier& operator=(const notifier&) = delete;

  /// Creates a topic (idempotent) and returns its ARN. `name`: 1-256 of [A-Za-z0-9_-];
  /// an ARN "arn:aws:sns:<region>:<account>:<name>" is taken as is (another account's topic).
  result<std::string> create_topic(std::string_view name_or_arn);
  bool delete_topic(std::string_view name_or_arn);
  /// The ARN of an existing topic given by name or ARN.
  std::optional<std::string> find_topic(std::string_view name_or_arn) const;
  std::vector<std::string> topics() const;

  /// Subscribes a sink; returns the subscription ARN. Errors: error::no_such_destination.
  result<std::string> subscribe(std::string_view topic, std::shared_ptr<notification_sink> sink);
  bool unsubscribe(std::string_view subscription_arn);

  /// Delivers `message` to each subscription of `topic` now, one after the other,
  /// skipping the subscription ARNs in `skip` (already delivered by an earlier attempt).
  /// Errors: error::no_such_destination; error::invalid_action for a JSON message
  /// without a "default" string.
  result<publish_result> publish(std::string_view topic, std::string_view message,
                                 message_format format = message_format::raw,
                                 std::string_view subject = {},
                                 const std::vector<std::string>& skip = {});

  const std::string& region() const noexcept;
  const std::string& account() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
