#include "mosquitto_plugin/authorizer.hpp"

#include "mosquitto_plugin/connection_context.hpp"

#include <iotblocks/policy/evaluate.hpp>
#include <iotblocks/registry/status.hpp>

#include <algorithm>
#include <array>
#include <filesystem>
#include <optional>

namespace iotblocks::mosquitto_plugin {

struct authorizer::connection {
  std::string client_id;
  std::string address;
  std::optional<x509::certificate> leaf;  ///< none for a password user
  std::string user;                       ///< the password user's name
  time_point user_checked{};              ///< when the user was last found in the file
  policy::context ctx;
  std::shared_ptr<const policy::policy_set> policies;
  std::uint64_t epoch = 0;
  /// Empty while the certificate is ACTIVE in the registry, else why it is not.
  std::string inactive;
  policy::decision_cache cache;
  connection(std::string id, std::string addr, std::optional<x509::certificate> c,
             std::size_t capacity)
      : client_id(std::move(id)), address(std::move(addr)), leaf(std::move(c)), cache(capacity) {}
  /// "certificate <id>" or "user \"<name>\"", for the log.
  std::string principal_name() const {
    return leaf ? "certificate " + leaf->id() : "user \"" + user + "\"";
  }
};

authorizer::authorizer(plugin_options o, log_fn log_sink, publish_fn publish_sink)
    : opts_(std::move(o)),
      log_(std::move(log_sink)),
      publish_(std::move(publish_sink)),
      store_(opts_) {
  store_.refresh(std::chrono::steady_clock::now(), true);
  if (!store_.available()) log(log_level::error, "iotblocks: " + store_.problem());
}

authorizer::~authorizer() = default;

void authorizer::log(log_level level, const std::string& text) const {
  if (log_) log_(level, text);
}

bool authorizer::connect(const void* key, std::string_view client_id, std::string_view address,
                         const x509::certificate* leaf, time_point now) {
  std::lock_guard lock(mutex_);
  connections_.erase(key);
  std::erase_if(closed_, [key](const auto& e) { return e.first == key; });
  const bool refusals = opts_.log != log_mode::none;
  const std::string who = "client \"" + std::string(client_id) + "\" from " + std::string(address);
  if (store_.refresh(now, true) && !store_.available()) {
    log(log_level::error, "iotblocks: " + store_.problem());
  }
  if (!store_.available()) {
    if (refusals) log(log_level::warning, "iotblocks: refused " + who + ": " + store_.problem());
    return false;
  }
  if (leaf == nullptr) {
    if (refusals) {
      log(log_level::warning, "iotblocks: refused " + who +
                                  ": no client certificate (the listener needs "
                                  "require_certificate true)");
    }
    return false;
  }
  const std::array<x509::certificate, 1> chain{*leaf};
  auto a = store_.reg()->authenticate(std::span<const x509::certificate>(chain));
  if (a.event) {
    log(log_level::notice, "iotblocks: certificate " + a.event->certificate_id +
                               " registered PENDING_ACTIVATION under CA " +
                               a.event->ca_certificate_id);
    if (publish_) publish_(*a.event);
  }
  if (!a.accepted()) {
    if (refusals) {
      log(log_level::warning, "iotblocks: refused " + who + ", certificate " + leaf->id() + ": " +
                                  a.reason.message() +
                                  (a.message.empty() ? std::string{} : " (" + a.message + ")"));
    }
    return false;
  }
  return admit(key,
               std::make_unique<connection>(std::string(client_id), std::string(address), *leaf,
                                            opts_.cache_capacity),
               who);
}

bool authorizer::connect_with_password(const void* key, std::string_view client_id,
                                       std::string_view address, const std::string* username,
                                       const std::string* password, time_point now) {
  std::lock_guard lock(mutex_);
  connections_.erase(key);
  std::erase_if(closed_, [key](const auto& e) { return e.first == key; });
  const bool refusals = opts_.log != log_mode::none;
  const std::string who = "client \"" + std::string(client_id) + "\" from " + std::string(address);
  auto refuse = [&](const std::string& why) {
    if (refusals) log(log_level::warning, "iotblocks: refused " + who + ": " + why);
    return false;
  };
  if (opts_.users_path.empty()) {
    return refuse(
        "no client certificate (the listener needs require_certificate true), and no "
        "plugin_opt_users for passwords");
  }
  if (store_.refresh(now, true) && !store_.available()) {
    log(log_level::error, "iotblocks: " + store_.problem());
  }
  if (!store_.available()) return refuse(store_.problem());
  if (!users_) {
    // A missing file is refused rather than created empty at a mistyped path.
    std::error_code ec;
    if (!std::filesystem::exists(opts_.users_path, ec)) {
      return refuse("users file " + opts_.users_path + " does not exist");
    }
    auto opened = registry::user_store::open(opts_.users_path);
    if (!opened) return refuse("users file " + opts_.users_path + ": " + opened.describe());
    users_ = std::move(*opened);
  }
  if (username == nullptr || password == nullptr) {
    return refuse(username == nullptr ? "no certificate and no username"
                                      : "user \"" + *username + "\" sent no password");
  }
  if (!users_->check(*username, *password)) {
    return refuse("wrong username or password for user \"" + *username + "\"");
  }
  auto c = std::make_unique<connection>(std::string(client_id), std::string(address), std::nullopt,
                                        opts_.cache_capacity);
  c->user = *username;
  c->user_checked = now;
  return admit(key, std::move(c), who);
}

bool authorizer::admit(const void* key, std::unique_ptr<connection> c, const std::string& who) {
  rebind(*c);
  if (!c->inactive.empty()) {
    if (opts_.log != log_mode::none) {
      log(log_level::warning,
          "iotblocks: refused " + who + ": " + c->principal_name() + " is " + c->inactive);
    }
    return false;
  }
  if (!decide(*c, policy::actions::connect, "client", c->client_id)) return false;
  if (opts_.log == log_mode::decisions) {
    log(log_level::notice, "iotblocks: accepted " + who + ", " + c->principal_name());
  }
  connections_[key] = std::move(c);
  return true;
}

void authorizer::rebind(connection& c) {
  c.epoch = store_.epoch();
  c.cache.clear();
  c.policies.reset();
  c.inactive.clear();
  if (!c.leaf) {  // a password user: the users' principal, while the user exists
    if (!users_ || !users_->encoded(c.user)) c.inactive = "no longer a user";
    c.ctx = connection_context(opts_, c.client_id, c.address);
    c.policies = store_.policies()->effective_policies(registry::users_principal);
    return;
  }
  const auto& id = c.leaf->id();
  auto record = store_.reg()->find_certificate(id);
  if (!record) {
    c.inactive = "no longer registered";
  } else if (record->status != registry::certificate_status::active) {
    c.inactive = "now " + std::string(registry::to_string(record->status));
  }
  c.ctx = connection_context(opts_, c.client_id, c.address, *c.leaf, record.get());
  c.policies = store_.policies()->effective_policies(id);
}

bool authorizer::decide(connection& c, policy::action_id action, std::string_view type,
                        std::string_view name) {
  const auto resource = policy::make_arn(c.ctx, type, name);
  const policy::request req{action, resource};
  if (const auto* hit = c.cache.find(c.epoch, req)) return hit->allowed();
  const auto d = policy::evaluate(*c.policies, req, c.ctx);
  c.cache.insert(c.epoch, req, d);
  if (opts_.log == log_mode::decisions || (!d.allowed() && opts_.log == log_mode::refusals)) {
    std::string why;
    if (d.policy != nullptr && d.statement != policy::decision::no_statement) {
      why = " by " + d.policy->name + "#" + std::to_string(d.statement);
    }
    log(d.allowed() ? log_level::debug : log_level::warning,
        "iotblocks: " + std::string(policy::to_string(d.result)) + " " +
            std::string(policy::action_name(action)) + " " + resource + " for client \"" +
            c.client_id + "\"" + why);
  }
  return d.allowed();
}

bool authorizer::authorize(const void* key, access a, std::string_view topic, bool retain,
                           time_point now) {
  if (a == access::unsubscribe) return true;  // no AWS IoT action
  std::lock_guard lock(mutex_);
  connection* found = nullptr;
  if (auto it = connections_.find(key); it != connections_.end()) {
    found = it->second.get();
  } else if (a == access::publish) {  // the will of a closed connection
    for (auto e = closed_.rbegin(); e != closed_.rend() && found == nullptr; ++e) {
      if (e->first == key) found = e->second.get();
    }
  }
  if (found == nullptr) return false;
  auto& c = *found;
  if (store_.refresh(now, false) && !store_.available()) {
    log(log_level::error, "iotblocks: " + store_.problem());
  }
  if (!store_.available()) return false;
  if (c.epoch != store_.epoch()) rebind(c);
  // A password user deleted from the file: denied within refresh_ms, as a revocation.
  if (!c.leaf && c.inactive.empty() && now - c.user_checked >= opts_.refresh) {
    c.user_checked = now;
    if (!users_ || !users_->encoded(c.user)) c.inactive = "no longer a user";
  }
  if (!c.inactive.empty()) {
    if (opts_.log != log_mode::none) {
      log(log_level::warning, "iotblocks: denied client \"" + c.client_id +
                                  "\": " + c.principal_name() + " is " + c.inactive);
    }
    return false;
  }
  switch (a) {
    case access::publish:
      if (!decide(c, policy::actions::publish, "topic", topic)) return false;
      return !retain || decide(c, policy::actions::retain_publish, "topic", topic);
    case access::subscribe: return decide(c, policy::actions::subscribe, "topicfilter", topic);
    case access::receive: return decide(c, policy::actions::receive, "topic", topic);
    case access::unsubscribe: return true;
  }
  return false;
}

void authorizer::disconnect(const void* key) {
  std::lock_guard lock(mutex_);
  auto it = connections_.find(key);
  if (it == connections_.end()) return;
  if (opts_.log == log_mode::decisions) {
    log(log_level::notice, "iotblocks: client \"" + it->second->client_id + "\" disconnected, " +
                               std::to_string(connections_.size() - 1) + " connection(s) left");
  }
  closed_.emplace_back(key, std::move(it->second));
  connections_.erase(it);
  if (closed_.size() > closed_capacity) closed_.pop_front();
}

std::size_t authorizer::connections() const {
  std::lock_guard lock(mutex_);
  return connections_.size();
}

}  // namespace iotblocks::mosquitto_plugin
