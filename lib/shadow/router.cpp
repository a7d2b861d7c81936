#include <iotblocks/core/bytes.hpp>
#include <iotblocks/shadow/service.hpp>

#include <mutex>
#include <unordered_map>
#include <utility>

namespace iotblocks::shadow {
namespace {

constexpr std::string_view things_prefix = "$aws/things/";

std::string_view op_name(operation op) noexcept {
  switch (op) {
    case operation::get: return "get";
    case operation::update: return "update";
    case operation::remove: return "delete";
  }
  return "get";
}

// Percent-decoding of one path segment or query value ('+' stays '+'); nothing
// when an escape is malformed.
std::optional<std::string> decode_segment(std::string_view s) {
  auto r = iotblocks::percent_decode(s);
  if (!r) return std::nullopt;
  return std::move(*r);
}

}  // namespace

result<shadow_topic> parse_topic(std::string_view topic) {
  const auto not_shadow = [] { return result<shadow_topic>{error::not_a_shadow_topic}; };
  if (!topic.starts_with(things_prefix)) return not_shadow();
  std::string_view rest = topic.substr(things_prefix.size());
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return not_shadow();
  shadow_topic t;
  t.thing = rest.substr(0, slash);
  rest = rest.substr(slash + 1);
  if (!rest.starts_with("shadow/")) return not_shadow();
  rest = rest.substr(7);
  if (rest.starts_with("name/")) {
    rest = rest.substr(5);
    const auto end = rest.find('/');
    if (end == std::string_view::npos) return not_shadow();
    t.name = rest.substr(0, end);
    t.named = true;
    rest = rest.substr(end + 1);
  }
  if (rest == "get") {
    t.op = operation::get;
  } else if (rest == "update") {
    t.op = operation::update;
  } else if (rest == "delete") {
    t.op = operation::remove;
  } else {
    return not_shadow();
  }
  return t;
}

std::string topic_prefix(std::string_view thing, std::string_view name) {
  std::string out;
  out.reserve(things_prefix.size() + thing.size() + 12 + name.size());
  out.append(things_prefix).append(thing).append("/shadow");
  if (!name.empty()) out.append("/name/").append(name);
  return out;
}

struct router::impl {
  service& svc;
  std::function<bool(std::string_view)> filter;
  std::mutex mu;
  std::unordered_map<std::string, std::size_t> in_flight;

  explicit impl(service& s) : svc(s) {}

  bool wants(const std::string& topic) const { return !filter || filter(topic); }

  // Counts a request against its connection; false: 429.
  bool enter(std::string_view connection) {
    if (connection.empty()) return true;
    std::lock_guard lock(mu);
    std::size_t& n = in_flight[std::string(connection)];
    if (n >= svc.limits().max_in_flight()) return false;
    ++n;
    return true;
  }
  void leave(const std::string& connection) {
    if (connection.empty()) return;
    std::lock_guard lock(mu);
    auto it = in_flight.find(connection);
    if (it != in_flight.end() && --it->second == 0) in_flight.erase(it);
  }

  // The response topics of one request, built once (and asked of the filter once).
  struct plan {
    std::string base;  // "$aws/things/t/shadow[/name/n]/"
    operation op = operation::get;
    outputs what;
    bool rejected = true;
    std::string accepted_topic, rejected_topic, delta_topic, documents_topic;

    std::string topic(std::string_view a, std::string_view b) const {
      std::string t;
      t.reserve(base.size() + a.size() + b.size());
      t.append(base).append(a).append(b);
      return t;
    }
    std::string take(std::string& cached, std::string_view a, std::string_view b) const {
      return cached.empty() ? topic(a, b) : std::move(cached);
    }
  };

  plan plan_for(const shadow_topic& t) const {
    plan p;
    p.op = t.op;
    p.base.reserve(things_prefix.size() + t.thing.size() + 14 + t.name.size());
    p.base.append(things_prefix).append(t.thing).append("/shadow/");
    if (t.named) p.base.append("name/").append(t.name).push_back('/');
    if (!filter) return p;
    const std::string_view op = op_name(t.op);
    p.accepted_topic = p.topic(op, "/accepted");
    p.rejected_topic = p.topic(op, "/rejected");
    p.what.response = wants(p.accepted_topic);
    p.rejected = wants(p.rejected_topic);
    p.what.delta = p.what.documents = false;
    if (t.op == operation::update) {
      p.delta_topic = p.topic("update", "/delta");
      p.documents_topic = p.topic("update", "/documents");
      p.what.delta = wants(p.delta_topic);
      p.what.documents = wants(p.documents_topic);
    }
    return p;
  }

  static std::vector<message> messages(plan& p, outcome&& out) {
    std::vector<message> msgs;
    const std::string_view op = op_name(p.op);
    if (!out.accepted()) {
      if (p.rejected)
        msgs.push_back({p.take(p.rejected_topic, op, "/rejected"), std::move(out.body)});
      return msgs;
    }
    msgs.reserve(3);
    if (p.what.response && !out.body.empty()) {
      msgs.push_back({p.take(p.accepted_topic, op, "/accepted"), std::move(out.body)});
    }
    if (!out.delta.empty()) {
      msgs.push_back({p.take(p.delta_topic, "update", "/delta"), std::move(out.delta)});
    }
    if (!out.documents.empty()) {
      msgs.push_back({p.take(p.documents_topic, "update", "/documents"), std::move(out.documents)});
    }
    return msgs;
  }

  // Requests the service refuses before looking at the store (bad shadow name form).
  std::optional<outcome> malformed(const shadow_topic& t, std::string_view payload) const {
    if (t.named && t.name.empty()) {
      return rejection(error::invalid_shadow_name, {}, svc.now(),
                       client_token_of(payload, svc.limits()));
    }
    return std::nullopt;
  }
};

router::router(service& s) : p_(std::make_unique<impl>(s)) {}
router::~router() = default;

router& router::publish_filter(std::function<bool(std::string_view)> f) {
  p_->filter = std::move(f);
  return *this;
}

std::optional<std::vector<message>> router::route(std::string_view topic, std::string_view payload,
                                                  const request_context& ctx) {
  auto parsed = parse_topic(topic);
  if (!parsed) return std::nullopt;
  const shadow_topic& t = *parsed;
  impl::plan plan = p_->plan_for(t);
  if (auto bad = p_->malformed(t, payload)) return impl::messages(plan, std::move(*bad));
  if (!p_->enter(ctx.connection)) {
    return impl::messages(plan, rejection(error::too_many_requests, {}, p_->svc.now()));
  }
  const shadow_key key{std::string(t.thing), std::string(t.name)};
  outcome out;
  switch (t.op) {
    case operation::get: out = p_->svc.get(key, payload, ctx, plan.what); break;
    case operation::update: out = p_->svc.update(key, payload, ctx, plan.what); break;
    case operation::remove: out = p_->svc.remove(key, payload, ctx, plan.what); break;
  }
  p_->leave(std::string(ctx.connection));
  return impl::messages(plan, std::move(out));
}

bool router::route_async(std::string_view topic, std::string_view payload,
                         const request_context& ctx,
                         std::function<void(std::vector<message>)> done) {
  auto parsed = parse_topic(topic);
  if (!parsed) return false;
  const shadow_topic t = *parsed;
  auto plan = std::make_shared<impl::plan>(p_->plan_for(t));
  if (auto bad = p_->malformed(t, payload)) {
    done(impl::messages(*plan, std::move(*bad)));
    return true;
  }
  if (!p_->enter(ctx.connection)) {
    done(impl::messages(*plan, rejection(error::too_many_requests, {}, p_->svc.now())));
    return true;
  }
  const shadow_key key{std::string(t.thing), std::string(t.name)};
  auto finish = [this, plan, connection = std::string(ctx.connection),
                 done = std::move(done)](outcome out) {
    p_->leave(connection);
    done(impl::messages(*plan, std::move(out)));
  };
  switch (t.op) {
    case operation::get: finish(p_->svc.get(key, payload, ctx, plan->what)); break;
    case operation::update:
      p_->svc.update_async(key, payload, ctx, plan->what, std::move(finish));
      break;
    case operation::remove:
      p_->svc.remove_async(key, payload, ctx, plan->what, std::move(finish));
      break;
  }
  return true;
}

http_response router::http(std::string_view method, std::string_view target, std::string_view body,
                           const request_context& ctx) {
  service& svc = p_->svc;
  auto fail = [&](error e, std::string_view message = {}) {
    outcome o = rejection(e, message, svc.now());
    return http_response{o.status, std::move(o.body), {}};
  };
  std::string_view path = target;
  std::string_view query;
  if (auto q = target.find('?'); q != std::string_view::npos) {
    path = target.substr(0, q);
    query = target.substr(q + 1);
  }
  constexpr std::string_view head = "/things/";
  constexpr std::string_view tail = "/shadow";
  if (!path.starts_with(head) || !path.ends_with(tail) || path.size() < head.size() + tail.size()) {
    return fail(error::not_a_shadow_topic, "Not Found");
  }
  auto thing = decode_segment(path.substr(head.size(), path.size() - head.size() - tail.size()));
  std::optional<std::string> name = std::string{};
  bool named = false;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    if (param.starts_with("name=")) {
      name = decode_segment(param.substr(5));
      named = true;
    }
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  if (!thing || thing->find('/') != std::string::npos) return fail(error::invalid_thing_name);
  if (!name || (named && name->empty())) return fail(error::invalid_shadow_name);
  const shadow_key key{std::move(*thing), std::move(*name)};
  shadow_topic t{key.thing, key.name, named, operation::get};
  if (method == "GET") {
    t.op = operation::get;
  } else if (method == "POST") {
    t.op = operation::update;
  } else if (method == "DELETE") {
    t.op = operation::remove;
  } else {
    return fail(error::method_not_allowed);
  }
  impl::plan plan = p_->plan_for(t);
  plan.what.response = true;  // the HTTP body
  outcome out;
  switch (t.op) {
    case operation::get: out = svc.get(key, body, ctx, plan.what); break;
    case operation::update: out = svc.update(key, body, ctx, plan.what); break;
    case operation::remove: out = svc.remove(key, body, ctx, plan.what); break;
  }
  http_response resp{out.status, out.body, {}};
  if (out.accepted() && t.op != operation::get) {
    if (p_->filter && !p_->wants(plan.accepted_topic)) out.body.clear();
    resp.publish = impl::messages(plan, std::move(out));
  }
  return resp;
}

}  // namespace iotblocks::shadow
