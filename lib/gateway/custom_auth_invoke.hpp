// Private: the gateway's custom authorizers (docs/gateway.md, "Custom
// authorizers"). The broker's deferred authenticate hook: a CONNECT that names
// an authorizer (or reaches the default one) is decided by the operator's
// function, an HTTP endpoint or a program, on a worker thread; the decision is
// cached for refreshAfterInSeconds and the connection closed after
// disconnectAfterInSeconds. Credentials naming no usable authorizer, or whose
// token signature does not verify, are refused.
#pragma once

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/policy/evaluate.hpp>

#include "gateway/custom_auth.hpp"

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

/// An authorizer's admitted decision, handed to the authenticate hook
/// (broker::client_info::credentials).
struct decision {
  std::string authorizer;
  std::string principal_id;
  policy::policy_set policies;  ///< the function's policyDocuments, compiled
  std::chrono::seconds disconnect_after{86400};
};

/// Runs the function of `a` with `event`: the response body, or an error.
result<std::string> invoke(const custom_authorizer& a, const std::string& event);

/// Distinct objects: safe. Shared objects: safe.
class service {
 public:
  /// `authorizers` and `default_name` from the config (checked there).
  service(const std::vector<custom_authorizer>& authorizers, std::string default_name,
          std::size_t workers = 2);
  ~service();
  service(const service&) = delete;
  service& operator=(const service&) = delete;

  bool empty() const noexcept { return authorizers_.empty(); }
  /// The deferred authenticate hook. `ws`: the WebSocket upgrade request, if any;
  /// `tls_without_cert`: the client came over TLS without a certificate (the
  /// default authorizer applies to it).
  bool take(const mqtt::connect_view& p, const broker::client_info& info, const http_request* ws,
            bool tls_without_cert, broker::connect_resumer r);
  /// Closes connections whose disconnectAfterInSeconds passed; call about once a second.
  void tick(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  struct counters {
    std::uint64_t invocations = 0, cache_hits = 0, refused = 0, admitted = 0, errors = 0;
  };
  counters stats() const;

 private:
  using clock = std::chrono::steady_clock;
  struct job {
    const custom_authorizer* authorizer;
    std::string event;
    std::string cache_key;
    broker::connect_resumer resume;
  };
  void run();
  void finish(const job& j, result<std::string> body);
  void admit(const broker::connect_resumer& r, std::shared_ptr<const decision> d);

  std::map<std::string, custom_authorizer, std::less<>> authorizers_;
  std::string default_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;
  bool stopping_ = false;
  struct cached {
    std::shared_ptr<const decision> d;  ///< null: refused
    clock::time_point expires;
  };
  std::map<std::string, cached, std::less<>> cache_;
  struct expiry {
    clock::time_point due;
    std::weak_ptr<broker::connection> connection;
  };
  std::vector<expiry> expiries_;
  counters stats_;
  std::vector<std::thread> workers_;
};

}  // namespace iotblocks::gateway::custom_auth
