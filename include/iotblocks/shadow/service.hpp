// The shadow service over a store, and its two faces: the MQTT topic router (a pure
// function from one PUBLISH on $aws/things/{thing}/shadow[/name/{name}]/{get,update,delete}
// to the messages to publish) and an HTTP-shaped API (GET/POST/DELETE of a shadow).
//
//   iotblocks::shadow::memory_store store;
//   iotblocks::shadow::service svc{store};
//   iotblocks::shadow::router r{svc};
//   auto out = r.route("$aws/things/lamp/shadow/update",
//                      R"({"state":{"desired":{"color":"red"}}})");
//   // out->at(0).topic == "$aws/things/lamp/shadow/update/accepted", then /update/delta,
//   // then /update/documents
//   auto h = r.http("GET", "/things/lamp/shadow", "");   // h.status == 200
#pragma once

#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/shadow/document.hpp>
#include <iotblocks/shadow/limits.hpp>
#include <iotblocks/shadow/store.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::shadow {

enum class operation { get, update, remove };

/// Who sends a request, for the authorizer and the per-connection in-flight limit.
struct request_context {
  std::string_view connection{};  ///< MQTT client id; empty: no in-flight limit
  std::string_view principal{};   ///< the authenticated identity, for the authorizer
};

struct access_request {
  operation op;
  const shadow_key& key;
  const request_context& context;
};

/// Decides access: 0 allows, 401 (Unauthorized) or 403 (Forbidden) refuses.
using authorizer = std::function<int(const access_request&)>;

/// Validates names, asks the hooks, and runs the document operations on the store at the
/// clock's time. Distinct objects: safe. Shared objects: safe (once configured).
class service {
 public:
  explicit service(store& s, const clock& c = default_clock(), const shadow::limits& l = {});

  /// Asked before every operation; default allows everything.
  service& authorize_with(authorizer a);
  /// Whether a thing exists (404 Thing not found otherwise); default: every thing does.
  service& thing_exists(std::function<bool(std::string_view thing)> f);

  const shadow::limits& limits() const noexcept { return limits_; }
  const clock& time_source() const noexcept { return clock_; }
  std::int64_t now() const noexcept { return clock_.now_ms() / 1000; }

  /// Update/get/delete, durable before they return. A store failure is 500.
  outcome update(const shadow_key& key, std::string_view payload, const request_context& ctx = {},
                 const outputs& what = {});
  outcome get(const shadow_key& key, std::string_view payload = {}, const request_context& ctx = {},
              const outputs& what = {});
  outcome remove(const shadow_key& key, std::string_view payload = {},
                 const request_context& ctx = {}, const outputs& what = {});

  /// The same, completing in `done` once durable (with group commit, after the group's
  /// COMMIT, possibly on the store's thread). `payload` need not outlive the call.
  void update_async(const shadow_key& key, std::string_view payload, const request_context& ctx,
                    const outputs& what, std::function<void(outcome)> done);
  void remove_async(const shadow_key& key, std::string_view payload, const request_context& ctx,
                    const outputs& what, std::function<void(outcome)> done);

 private:
  std::optional<outcome> precheck(operation op, const shadow_key& key, std::string_view payload,
                                  const request_context& ctx) const;
  store& store_;
  const clock& clock_;
  shadow::limits limits_;
  authorizer authorize_;
  std::function<bool(std::string_view)> thing_exists_;
};

/// Checks a thing or shadow name: 1..max bytes of [a-zA-Z0-9:_-].
bool valid_name(std::string_view name, std::size_t max) noexcept;

/// A parsed shadow request topic; views into the topic.
struct shadow_topic {
  std::string_view thing;
  std::string_view name;  ///< empty for the classic shadow
  bool named = false;     ///< the topic has /name/{name} (then an empty name is invalid)
  operation op = operation::get;
};

/// Splits $aws/things/{thing}/shadow[/name/{name}]/{get|update|delete}; anything else
/// (response topics included) is error::not_a_shadow_topic.
result<shadow_topic> parse_topic(std::string_view topic);

/// "$aws/things/{thing}/shadow" or "$aws/things/{thing}/shadow/name/{name}".
std::string topic_prefix(std::string_view thing, std::string_view name);

/// One message to publish.
struct message {
  std::string topic;
  std::string payload;
  friend bool operator==(const message&, const message&) = default;
};

/// What the HTTP-shaped API answers, and the messages it publishes (an accepted update
/// publishes update/accepted, /delta and /documents; a rejection publishes nothing).
struct http_response {
  int status = 200;
  std::string body;
  std::vector<message> publish;
};

/// Routes shadow requests to a service and turns outcomes into messages, enforcing the
/// in-flight limit per connection (429). Distinct objects: safe. Shared objects: safe.
class router {
 public:
  explicit router(service& s);
  ~router();
  router(const router&) = delete;
  router& operator=(const router&) = delete;

  /// Which topics have subscribers; payloads for the others are not built. Default: all.
  router& publish_filter(std::function<bool(std::string_view topic)> f);

  /// Handles one PUBLISH. nullopt: not a shadow request topic (publish it as usual).
  std::optional<std::vector<message>> route(std::string_view topic, std::string_view payload,
                                            const request_context& ctx = {});

  /// The same for stores with group commit: `done` gets the messages once durable.
  /// Returns false (and never calls `done`) when `topic` is not a shadow request topic.
  bool route_async(std::string_view topic, std::string_view payload, const request_context& ctx,
                   std::function<void(std::vector<message>)> done);

  /// GET | POST | DELETE /things/{thing}/shadow[?name={shadow}] (AWS's REST paths).
  http_response http(std::string_view method, std::string_view target, std::string_view body,
                     const request_context& ctx = {});

 private:
  struct impl;
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::shadow

IOTBLOCKS_API_END
