// Private: the gateway's custom authorizers (docs/gateway.md, "Custom
// authorizers"). The broker's deferred authenticate hook: a CONNECT that names
// an authorizer (or reaches the default one) is decided by the operator's
// function, an HTTP endpoint or a program, on a worker thread; the decision is
// cached for refreshAfterInSeconds, the function asked again for each open
// connection every refreshAfterInSeconds (new policies apply at once; a refusal
// or failure closes it), and the connection closed after
// disconnectAfterInSeconds. Credentials naming no usable authorizer, or whose
// token signature does not verify, are refused. A WebSocket upgrade request
// naming an authorizer is decided before the upgrade (401 when refused).
// Each refusal is an operator-log line (custom_auth_refused) with the
// authorizer and the reason, never the token or password.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/policy/evaluate.hpp>

#include "gateway/custom_auth.hpp"
#include "gateway/operator_log.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace iotblocks::gateway::custom_auth {

/// An authorizer's admitted decision.
struct decision {
  std::string authorizer;
  std::string principal_id;
  policy::policy_set policies;  ///< the function's policyDocuments, compiled
  std::chrono::seconds disconnect_after{86400};
  std::chrono::seconds refresh_after{86400};
};

/// The decision in force on an open connection (broker::client_info::credentials):
/// each refresh replaces it. Distinct objects: safe. Shared objects: safe.
class grant {
 public:
  explicit grant(std::shared_ptr<const decision> d) : d_(std::move(d)) {}
  std::shared_ptr<const decision> current() const {
    std::lock_guard lock(mutex_);
    return d_;
  }
  void replace(std::shared_ptr<const decision> d) const {
    std::lock_guard lock(mutex_);
    d_ = std::move(d);
  }

 private:
  mutable std::mutex mutex_;
  mutable std::shared_ptr<const decision> d_;
};

/// Runs the function of `a` with `event`: the response body, or an error.
result<std::string> invoke(const custom_authorizer& a, const std::string& event);

/// Distinct objects: safe. Shared objects: safe.
class service {
 public:
  using clock = std::chrono::steady_clock;
  /// The answer to an upgrade request: `status` 0 upgrades, else the HTTP status and body.
  using upgrade_done = std::function<void(unsigned status, std::string body)>;

  /// `authorizers` and `default_name` from the config (checked there); refusals are
  /// written to `log` (may be null).
  service(const std::vector<custom_authorizer>& authorizers, std::string default_name,
          operator_log* log = nullptr, std::size_t workers = 2);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  bool empty() const noexcept { return authorizers_.empty(); }
  /// The deferred authenticate hook. `ws`: the WebSocket upgrade request, if any;
  /// `tls_without_cert`: the client came over TLS without a certificate (the
  /// default authorizer applies to it).
  bool take(const mqtt::connect_view& p, const broker::client_info& info, const http_request* ws,
            bool tls_without_cert, broker::connect_resumer r);
  /// A WebSocket upgrade request: false when it names no authorizer (not custom
  /// authentication); else true, and `done` is called once (maybe from a worker
  /// thread): 401 for a refusal, 503 when the function failed, 0 to upgrade. The
  /// function sees the request's headers and query string (no MQTT data yet); an
  /// upgraded connection's CONNECT is decided again with the whole event (take()).
  bool check_upgrade(const http_request& ws, std::string_view peer, std::string_view server_name,
                     upgrade_done done);
  /// Closes connections whose disconnectAfterInSeconds passed and asks the
  /// function again for those whose refreshAfterInSeconds did; call about once a second.
  void tick(clock::time_point now = clock::now());

  struct counters {
    std::uint64_t invocations = 0, cache_hits = 0, refused = 0, admitted = 0, errors = 0,
                  refreshes = 0;
  };
  counters stats() const;

 private:
  struct job {
    const custom_authorizer* authorizer = nullptr;
    std::string event;
    std::function<void(result<std::string>)> done;
  };
  /// What an answer means: a decision, or why not (`error`: the function failed).
  struct verdict {
    std::shared_ptr<const decision> d;
    std::string reason;
    bool error = false;
    std::chrono::seconds refresh_after{86400};
  };
  /// An admitted connection, refreshed and closed on time.
  struct live {
    std::shared_ptr<const grant> g;
    const custom_authorizer* authorizer = nullptr;
    std::string event;
    std::string cache_key;  ///< the CONNECT's: a refresh's answer replaces its entry
    std::string client_id, peer;
    clock::time_point refresh_due, disconnect_due;
    std::weak_ptr<broker::connection> connection;
    bool refreshing = false;
  };

  void run();
  bool enqueue(job j);
  verdict judge(const custom_authorizer& a, const result<std::string>& body) const;
  void remember(const std::string& key, const verdict& v);
  void admit(const broker::connect_resumer& r, std::shared_ptr<const decision> d,
             const custom_authorizer* a, std::string event, std::string key, std::string client_id,
             std::string peer);
  void refreshed(const std::shared_ptr<live>& l, const verdict& v);
  void log_refusal(std::string_view phase, std::string_view authorizer, std::string_view client_id,
                   std::string_view peer, std::string_view reason, bool error);

  std::map<std::string, custom_authorizer, std::less<>> authorizers_;
  std::string default_;
  operator_log* log_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  struct cached {
    std::shared_ptr<const decision> d;  ///< null: refused
    clock::time_point expires;
  };
  std::map<std::string, cached, std::less<>> cache_;
  std::vector<std::shared_ptr<live>> live_;
  counters stats_;
  std::vector<std::thread> workers_;
};

}  // namespace iotblocks::gateway::custom_auth
