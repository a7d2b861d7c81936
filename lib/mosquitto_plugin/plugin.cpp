// The mosquitto 2.0 plugin (API version 5): mosquitto.conf loads it with
//   plugin /usr/lib/x86_64-linux-gnu/iotblocks/iotblocks_mosquitto_plugin.so
//   plugin_opt_registry /var/lib/iotblocks/registry.db
// and it answers MOSQ_EVT_BASIC_AUTH (every CONNECT: the client certificate, else the
// username and password when plugin_opt_users names the users file), MOSQ_EVT_ACL_CHECK (every
// publish, subscribe and delivery) and MOSQ_EVT_DISCONNECT through the authorizer.
#include "mosquitto_plugin/authorizer.hpp"
#include "mosquitto_plugin/error.hpp"
#include "mosquitto_plugin/options.hpp"

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <openssl/x509.h>

#include <chrono>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#define IOTBLOCKS_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using iotblocks::mosquitto_plugin::access;
using iotblocks::mosquitto_plugin::authorizer;
using iotblocks::mosquitto_plugin::log_level;

struct plugin {
  mosquitto_plugin_id_t* id = nullptr;
  std::unique_ptr<authorizer> auth;
};

int to_mosquitto(log_level l) {
  switch (l) {
    case log_level::debug: return MOSQ_LOG_DEBUG;
    case log_level::notice: return MOSQ_LOG_NOTICE;
    case log_level::warning: return MOSQ_LOG_WARNING;
    case log_level::error: return MOSQ_LOG_ERR;
  }
  return MOSQ_LOG_ERR;
}

void write_log(log_level l, const std::string& text) {
  mosquitto_log_printf(to_mosquitto(l), "%s", text.c_str());
}

void publish_event(const iotblocks::registry::registration_event& e) {
  // Delivered to subscribers allowed to receive it (the ACL check applies to readers).
  const int rc =
      mosquitto_broker_publish_copy(nullptr, e.topic.c_str(), static_cast<int>(e.payload.size()),
                                    e.payload.data(), 1, false, nullptr);
  if (rc != MOSQ_ERR_SUCCESS) {
    mosquitto_log_printf(MOSQ_LOG_WARNING, "iotblocks: could not publish %s: %s", e.topic.c_str(),
                         mosquitto_strerror(rc));
  }
}

int on_basic_auth(int, void* event_data, void* userdata) {
  auto* p = static_cast<plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_basic_auth*>(event_data);
  try {
    const char* id = mosquitto_client_id(ev->client);
    const char* address = mosquitto_client_address(ev->client);
    std::optional<iotblocks::x509::certificate> leaf;
    if (auto* x = static_cast<X509*>(mosquitto_client_certificate(ev->client))) {
      auto c = iotblocks::x509::certificate::from_native(x);  // takes its own reference
      X509_free(x);
      if (c) leaf.emplace(std::move(*c));
    }
    const auto now = std::chrono::steady_clock::now();
    bool ok = false;
    if (leaf) {  // a certificate decides, whatever the username (as in the gateway)
      ok = p->auth->connect(ev->client, id ? id : "", address ? address : "", &*leaf, now);
    } else {
      std::optional<std::string> user, pass;
      if (ev->username != nullptr) user.emplace(ev->username);
      if (ev->password != nullptr) pass.emplace(ev->password);
      ok = p->auth->connect_with_password(ev->client, id ? id : "", address ? address : "",
                                          user ? &*user : nullptr, pass ? &*pass : nullptr, now);
    }
    return ok ? MOSQ_ERR_SUCCESS : MOSQ_ERR_AUTH;
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "iotblocks: authentication failed: %s", e.what());
    return MOSQ_ERR_AUTH;
  }
}

int on_acl_check(int, void* event_data, void* userdata) {
  auto* p = static_cast<plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_acl_check*>(event_data);
  access a = access::publish;
  switch (ev->access) {
    case MOSQ_ACL_WRITE: a = access::publish; break;
    case MOSQ_ACL_READ: a = access::receive; break;
    case MOSQ_ACL_SUBSCRIBE: a = access::subscribe; break;
    case MOSQ_ACL_UNSUBSCRIBE: a = access::unsubscribe; break;
    default: return MOSQ_ERR_ACL_DENIED;
  }
  try {
    const bool ok = p->auth->authorize(ev->client, a, ev->topic ? ev->topic : "", ev->retain,
                                       std::chrono::steady_clock::now());
    return ok ? MOSQ_ERR_SUCCESS : MOSQ_ERR_ACL_DENIED;
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "iotblocks: authorization failed: %s", e.what());
    return MOSQ_ERR_ACL_DENIED;
  }
}

int on_disconnect(int, void* event_data, void* userdata) {
  auto* p = static_cast<plugin*>(userdata);
  auto* ev = static_cast<mosquitto_evt_disconnect*>(event_data);
  p->auth->disconnect(ev->client);
  return MOSQ_ERR_SUCCESS;
}

}  // namespace

IOTBLOCKS_PLUGIN_EXPORT int mosquitto_plugin_version(int supported_version_count,
                                                     const int* supported_versions) {
  for (int i = 0; i < supported_version_count; ++i) {
    if (supported_versions[i] == 5) return 5;
  }
  return -1;
}

IOTBLOCKS_PLUGIN_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t* identifier,
                                                  void** userdata, mosquitto_opt* options,
                                                  int option_count) {
  try {
    std::vector<iotblocks::mosquitto_plugin::option> opts;
    for (int i = 0; i < option_count; ++i) {
      opts.emplace_back(options[i].key ? options[i].key : "",
                        options[i].value ? options[i].value : "");
    }
    auto parsed = iotblocks::mosquitto_plugin::parse_options(opts);
    if (!parsed) {
      mosquitto_log_printf(MOSQ_LOG_ERR, "iotblocks: %s", parsed.describe().c_str());
      return MOSQ_ERR_INVAL;
    }
    auto p = std::make_unique<plugin>();
    p->id = identifier;
    p->auth = std::make_unique<authorizer>(std::move(*parsed), &write_log, &publish_event);
    const int rc[] = {
        mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr,
                                    p.get()),
        mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr, p.get()),
        mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr,
                                    p.get()),
    };
    for (int r : rc) {
      if (r != MOSQ_ERR_SUCCESS) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "iotblocks: cannot register a callback: %s",
                             mosquitto_strerror(r));
        mosquitto_callback_unregister(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr);
        mosquitto_callback_unregister(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr);
        mosquitto_callback_unregister(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr);
        return r;
      }
    }
    *userdata = p.release();
    return MOSQ_ERR_SUCCESS;
  } catch (const std::exception& e) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "iotblocks: plugin start failed: %s", e.what());
    return MOSQ_ERR_UNKNOWN;
  }
}

IOTBLOCKS_PLUGIN_EXPORT int mosquitto_plugin_cleanup(void* userdata, mosquitto_opt*, int) {
  auto* p = static_cast<plugin*>(userdata);
  if (p == nullptr) return MOSQ_ERR_SUCCESS;
  mosquitto_callback_unregister(p->id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, nullptr);
  mosquitto_callback_unregister(p->id, MOSQ_EVT_ACL_CHECK, on_acl_check, nullptr);
  mosquitto_callback_unregister(p->id, MOSQ_EVT_DISCONNECT, on_disconnect, nullptr);
  delete p;
  return MOSQ_ERR_SUCCESS;
}
