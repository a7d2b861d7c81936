#include <iotblocks/shadow/service.hpp>

#include <memory>
#include <utility>

namespace iotblocks::shadow {

bool valid_name(std::string_view name, std::size_t max) noexcept {
  if (name.empty() || name.size() > max) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == ':' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

service::service(store& s, const clock& c, const shadow::limits& l)
    : store_(s), clock_(c), limits_(l) {}

service& service::authorize_with(authorizer a) {
  authorize_ = std::move(a);
  return *this;
}

service& service::thing_exists(std::function<bool(std::string_view)> f) {
  thing_exists_ = std::move(f);
  return *this;
}

std::optional<outcome> service::precheck(operation op, const shadow_key& key,
                                         std::string_view payload,
                                         const request_context& ctx) const {
  auto reject = [&](error e) { return rejection(e, {}, now(), client_token_of(payload, limits_)); };
  if (!valid_name(key.thing, limits_.max_thing_name())) return reject(error::invalid_thing_name);
  if (!key.name.empty() && !valid_name(key.name, limits_.max_shadow_name())) {
    return reject(error::invalid_shadow_name);
  }
  if (authorize_) {
    const int verdict = authorize_(access_request{op, key, ctx});
    if (verdict == 401) return reject(error::unauthorized);
    if (verdict != 0) return reject(error::forbidden);
  }
  if (thing_exists_ && !thing_exists_(key.thing)) return reject(error::thing_not_found);
  return std::nullopt;
}

outcome service::update(const shadow_key& key, std::string_view payload, const request_context& ctx,
                        const outputs& what) {
  if (auto refused = precheck(operation::update, key, payload, ctx)) return std::move(*refused);
  outcome out;
  const std::error_code ec = store_.modify(key, [&](document& d) {
    out = d.update(payload, now(), limits_, what);
    return out.accepted();
  });
  if (ec) return rejection(error::internal_failure, {}, now(), client_token_of(payload, limits_));
  return out;
}

outcome service::get(const shadow_key& key, std::string_view payload, const request_context& ctx,
                     const outputs& what) {
  if (auto refused = precheck(operation::get, key, payload, ctx)) return std::move(*refused);
  outcome out;
  const std::error_code ec = store_.read(
      key, [&](const document& d) { out = d.get(payload, now(), key.label(), limits_, what); });
  if (ec) return rejection(error::internal_failure, {}, now(), client_token_of(payload, limits_));
  return out;
}

outcome service::remove(const shadow_key& key, std::string_view payload, const request_context& ctx,
                        const outputs& what) {
  if (auto refused = precheck(operation::remove, key, payload, ctx)) return std::move(*refused);
  outcome out;
  const std::error_code ec = store_.modify(key, [&](document& d) {
    out = d.remove(payload, now(), key.label(), limits_, what);
    return out.accepted();
  });
  if (ec) return rejection(error::internal_failure, {}, now(), client_token_of(payload, limits_));
  return out;
}

namespace {

// Runs `op` on the store with deferred completion (the store may run it later, and
// again on a retried transaction; the last run's outcome counts); a store failure
// becomes 500. `op` owns what it uses.
template <class Op>
void run_async(store& st, const service& svc, const shadow_key& key, Op op,
               std::function<void(outcome)> done) {
  auto out = std::make_shared<outcome>();
  st.modify_deferred(
      key,
      [out, op = std::move(op)](document& d) {
        *out = op(d);
        return out->accepted();
      },
      [out, &svc, done = std::move(done)](std::error_code ec) {
        if (ec) {
          done(rejection(error::internal_failure, {}, svc.now(), out->client_token));
        } else {
          done(std::move(*out));
        }
      });
}

}  // namespace

void service::update_async(const shadow_key& key, std::string_view payload,
                           const request_context& ctx, const outputs& what,
                           std::function<void(outcome)> done) {
  if (auto refused = precheck(operation::update, key, payload, ctx)) {
    done(std::move(*refused));
    return;
  }
  run_async(
      store_, *this, key,
      [this, body = std::string(payload), what](document& d) {
        return d.update(body, now(), limits_, what);
      },
      std::move(done));
}

void service::remove_async(const shadow_key& key, std::string_view payload,
                           const request_context& ctx, const outputs& what,
                           std::function<void(outcome)> done) {
  if (auto refused = precheck(operation::remove, key, payload, ctx)) {
    done(std::move(*refused));
    return;
  }
  run_async(
      store_, *this, key,
      [this, body = std::string(payload), label = key.label(), what](document& d) {
        return d.remove(body, now(), label, limits_, what);
      },
      std::move(done));
}

}  // namespace iotblocks::shadow
