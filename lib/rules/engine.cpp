#include <iotblocks/policy/resource_policy.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/topic/index.hpp>

#include "core/json.hpp"
#include "rules/builtin.hpp"
#include "rules/executor.hpp"
#include "rules/sql_bridge.hpp"

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <shared_mutex>
#include <unordered_map>
#include <utility>

namespace iotblocks::rules {

using namespace detail;

namespace detail {

struct rule_runtime {
  std::shared_ptr<const rule_identity> identity;
  rule_document doc;
  std::optional<sql::rule> query;  // set by build()
  std::string from;
  std::vector<std::shared_ptr<action_slot>> actions;
  std::shared_ptr<action_slot> error_action;
  std::shared_ptr<rule_counters> counters;
  std::atomic<bool> enabled{true};
  topic::subscriber_id id = 0;
};

struct failure_entry {
  std::string failed_action;
  std::string failed_resource;
  std::string error_message;
};

/// Counts what one dispatch(m, done) started; the last release() calls `done`.
struct dispatch_tracker {
  std::atomic<std::size_t> pending{1};  // dispatch() itself holds one
  std::atomic<bool> stopped{false};
  std::atomic<bool> dropped{false};  // an invocation found its queue full
  engine::dispatch_done done;

  void hold() noexcept { pending.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    if (pending.fetch_sub(1, std::memory_order_acq_rel) != 1 || !done) return;
    done(stopped.load()   ? make_error_code(error::stopped)
         : dropped.load() ? make_error_code(error::queue_full)
                          : std::error_code{});
  }
};

struct invocation_group {
  std::shared_ptr<const rule_runtime> rule;
  std::shared_ptr<dispatch_tracker> tracker;  ///< null: dispatch() without completion
  std::shared_ptr<const message_record> message;
  std::atomic<std::size_t> pending{0};
  std::mutex m;
  std::vector<failure_entry> failures;
};

}  // namespace detail

namespace {

std::string arn_account(std::string_view arn) {
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  const auto end = arn.find(':', pos);
  return end == std::string_view::npos ? std::string{} : std::string(arn.substr(pos, end - pos));
}

/// Views of a stored message, for rendering templates after dispatch returned.
message view_of(const message_record& r) {
  message m;
  m.topic = r.topic;
  m.payload = as_bytes(r.payload);
  if (!r.client_id.empty()) m.client_id = r.client_id;
  if (!r.principal.empty()) m.principal = r.principal;
  if (!r.source_ip.empty()) m.source_ip = r.source_ip;
  m.timestamp_ms = r.timestamp_ms;
  m.qos = r.qos;
  return m;
}

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;
void put(json_writer& w, const char* key, std::string_view v) {
  w.Key(key);
  w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
}

/// Checks a cross-account (or policy-guarded) destination before running the action.
class authorized_action final : public action {
 public:
  using check_fn = std::function<action_status(const rule_identity&, const destination_ref&)>;
  authorized_action(std::unique_ptr<action> inner, check_fn check)
      : inner_(std::move(inner)), check_(std::move(check)), dest_(inner_->destination()) {}
  std::vector<std::string> templates() const override { return inner_->templates(); }
  std::string resource() const override { return inner_->resource(); }
  destination_ref destination() const override { return dest_; }
  std::size_t max_batch() const noexcept override { return inner_->max_batch(); }
  action_status execute(const action_input& in) override {
    auto st = check_(in.rule, dest_);
    return st.ok() ? inner_->execute(in) : st;
  }

 private:
  std::unique_ptr<action> inner_;
  check_fn check_;
  destination_ref dest_;
};

}  // namespace

std::string rule_metrics::to_json() const {
  return fmt::format(
      R"({{"evaluated":{},"matched":{},"evaluationErrors":{},"actionsSucceeded":{},"actionsFailed":{},"actionsRetried":{},"actionsDropped":{},"errorActionsSent":{},"unreported":{},"latencyCount":{},"latencyAvgUs":{},"latencyMaxUs":{}}})",
      evaluated, matched, evaluation_errors, actions_succeeded, actions_failed, actions_retried,
      actions_dropped, error_actions_sent, unreported, latency_count,
      latency_count ? latency_total_us / latency_count : 0, latency_max_us);
}

struct engine::impl {
  engine_options opt;
  const iotblocks::clock* time;
  metric_store metrics;
  rules::notifier notify;
  services svc;
  mutable std::shared_mutex registry_m;  // factories, functions, policies
  std::map<std::string, action_factory, std::less<>> factories;
  std::map<std::string, function_callback, std::less<>> functions;
  std::map<std::string, policy::document, std::less<>> policies;

  topic::subscription_index index;
  mutable std::shared_mutex rules_m;
  std::unordered_map<topic::subscriber_id, std::shared_ptr<rule_runtime>> by_id;
  std::map<std::string, std::shared_ptr<rule_runtime>, std::less<>> by_name;
  std::atomic<topic::subscriber_id> next_id{1};

  rule_counters internal;  // alarm notifications and failures outside rules
  std::shared_ptr<action_slot> alarm_slot;
  std::unique_ptr<executor> exec;
  std::atomic<bool> stopped{false};

  std::mutex tick_m;
  std::condition_variable tick_cv;
  bool tick_stop = false;
  std::thread ticker;

  explicit impl(engine_options o)
      : opt(std::move(o)),
        time(opt.time ? opt.time : &default_clock()),
        metrics(*time),
        notify(opt.region, opt.account) {}

  void unreported(rule_counters* c, std::string_view line) {
    (c ? c : &internal)->unreported.fetch_add(1, std::memory_order_relaxed);
    if (opt.on_unreported) {
      opt.on_unreported(line);
    } else {
      static std::mutex m;
      std::lock_guard lock{m};
      std::clog << "iotblocks.rules: " << line << '\n';
    }
  }

  action_status authorize(const rule_identity& rule, const destination_ref& d) {
    if (d.arn.empty()) return {};
    {
      std::shared_lock lock{registry_m};
      auto it = policies.find(d.arn);
      if (it != policies.end()) {
        auto decision = policy::authorize_invocation(it->second, {.action = d.permission,
                                                                  .destination_arn = d.arn,
                                                                  .source_arn = rule.arn,
                                                                  .source_account = rule.account});
        if (decision.allowed()) return {};
        return action_status::fail(
            error::access_denied,
            fmt::format("{} on {} denied for rule {} ({}{}{})", d.permission, d.arn, rule.arn,
                        policy::to_string(decision.result), decision.reason.empty() ? "" : ": ",
                        decision.reason));
      }
    }
    const std::string owner = arn_account(d.arn);
    if (owner.empty() || owner == rule.account) return {};
    return action_status::fail(
        error::access_denied,
        fmt::format("{} belongs to account {} and has no resource policy allowing rule {}", d.arn,
                    owner, rule.arn));
  }

  result<std::shared_ptr<action_slot>> make_slot(const action_spec& spec, const sql::rule& q,
                                                 std::string_view where_name,
                                                 const std::shared_ptr<const rule_identity>& id,
                                                 const std::shared_ptr<rule_counters>& counters) {
    action_factory factory;
    {
      std::shared_lock lock{registry_m};
      auto it = factories.find(spec.type);
      if (it == factories.end()) {
        return {error::unknown_action,
                fmt::format("{}: unknown action type \"{}\"", where_name, spec.type), spec.where};
      }
      factory = it->second;
    }
    auto made = factory(spec.parameters);
    if (!made) {
      auto f = std::move(made).take_failure();
      return {f.code, fmt::format("{}: {}", where_name, f.describe()), spec.where};
    }
    auto slot = std::make_shared<action_slot>();
    std::unique_ptr<action> a = std::move(*made);
    if (!a->destination().arn.empty()) {
      a = std::make_unique<authorized_action>(
          std::move(a),
          [this](const rule_identity& r, const destination_ref& d) { return authorize(r, d); });
    }
    for (const auto& text : a->templates()) {
      auto t = detail::compile_template(text, q, opt.functions.get());
      if (!t) {
        return {t.error(), fmt::format("{}: template \"{}\": {}", where_name, text, t.describe()),
                spec.where};
      }
      slot->templates.push_back(std::move(*t));
    }
    slot->type = spec.type;
    slot->failed_action = failed_action_name(spec.type);
    slot->resource = a->resource();
    slot->destination = a->destination();
    slot->impl = std::move(a);
    slot->rule = id;
    slot->counters = counters;
    slot->capacity = opt.queue_capacity;
    return slot;
  }

  result<std::shared_ptr<rule_runtime>> build(std::string_view name, std::string_view text,
                                              std::string_view account) {
    if (auto r = validate_rule_name(name); !r) return std::move(r).take_failure();
    auto doc = parse_rule_document(text);
    if (!doc) return std::move(doc).take_failure();
    auto q = compile_query(doc->sql, opt.functions.get());
    if (!q) {
      auto f = std::move(q).take_failure();
      return {f.code, fmt::format("sql: {}", f.describe()), doc->sql_where};
    }
    if (q->from().empty()) {
      return {error::invalid_document, "sql: the statement has no FROM topic filter",
              doc->sql_where};
    }
    if (topic::is_shared(q->from())) {
      return {error::invalid_document, "sql: FROM cannot be a shared subscription", doc->sql_where};
    }
    auto rt = std::make_shared<rule_runtime>();
    const std::string acct = account.empty() ? opt.account : std::string(account);
    rt->identity = std::make_shared<const rule_identity>(rule_identity{
        std::string(name), acct, fmt::format("arn:aws:iot:{}:{}:rule/{}", opt.region, acct, name)});
    rt->counters = std::make_shared<rule_counters>();
    rt->from = q->from();
    for (std::size_t i = 0; i < doc->actions.size(); ++i) {
      auto slot =
          make_slot(doc->actions[i], *q, fmt::format("actions[{}].{}", i, doc->actions[i].type),
                    rt->identity, rt->counters);
      if (!slot) return std::move(slot).take_failure();
      rt->actions.push_back(std::move(*slot));
    }
    if (doc->error_action) {
      auto slot = make_slot(*doc->error_action, *q, "errorAction." + doc->error_action->type,
                            rt->identity, rt->counters);
      if (!slot) return std::move(slot).take_failure();
      (*slot)->is_error_action = true;
      // Error messages arrive in bursts (a full action queue rejects many at once).
      (*slot)->capacity = std::max<std::size_t>(opt.queue_capacity, 4096);
      rt->error_action = std::move(*slot);
    }
    rt->enabled = !doc->disabled;
    rt->query = std::move(*q);
    rt->doc = std::move(*doc);
    return rt;
  }

  result<void> install(std::string_view name, std::string_view text, std::string_view account,
                       bool may_add, bool may_replace) {
    auto built = build(name, text, account);
    if (!built) return std::move(built).take_failure();
    auto rt = std::move(*built);
    std::unique_lock lock{rules_m};
    auto it = by_name.find(name);
    if (it == by_name.end() && !may_add)
      return {error::no_such_rule, fmt::format("no rule {}", name)};
    if (it != by_name.end() && !may_replace) {
      return {error::rule_exists, fmt::format("rule {} exists", name)};
    }
    if (it == by_name.end() && by_name.size() >= opt.max_rules) {
      return {error::limit_exceeded, fmt::format("more than {} rules", opt.max_rules)};
    }
    rt->id = next_id.fetch_add(1);
    if (auto r = index.subscribe(rt->from, rt->id); !r) return std::move(r).take_failure();
    if (it != by_name.end()) {
      auto old = it->second;
      rt->counters = old->counters;  // metrics survive a replace
      for (auto& s : rt->actions) s->counters = rt->counters;
      if (rt->error_action) rt->error_action->counters = rt->counters;
      index.unsubscribe(old->from, old->id);
      by_id.erase(old->id);
      it->second = rt;
    } else {
      by_name.emplace(std::string(name), rt);
    }
    by_id.emplace(rt->id, rt);
    return {};
  }

  void finish_group(invocation_group& g) {
    // The dispatch waiting on this group is released here, or by the errorAction.
    const auto tracker = std::move(g.tracker);
    const auto release = [&tracker] {
      if (tracker) tracker->release();
    };
    const auto& rule = *g.rule;
    std::vector<failure_entry> failures;
    {
      std::lock_guard lock{g.m};
      failures.swap(g.failures);
    }
    if (failures.empty()) return release();
    rapidjson::StringBuffer sb;
    json_writer w(sb);
    w.StartObject();
    put(w, "ruleName", rule.identity->name);
    put(w, "topic", g.message->topic);
    put(w, "clientId", g.message->client_id.empty() ? "n/a" : g.message->client_id);
    put(w, "base64OriginalPayload", to_base64(as_bytes(g.message->payload)));
    w.Key("failures");
    w.StartArray();
    for (const auto& f : failures) {
      w.StartObject();
      put(w, "failedAction", f.failed_action);
      put(w, "failedResource", f.failed_resource);
      put(w, "errorMessage", f.error_message);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::string text(sb.GetString(), sb.GetSize());
    if (!rule.error_action) {
      unreported(rule.counters.get(),
                 fmt::format("rule {} has no errorAction: {}", rule.identity->name, text));
      return release();
    }
    job j;
    j.slot = rule.error_action;
    j.tracker = tracker;
    j.message = g.message;
    j.output = std::make_shared<const std::string>(std::move(text));
    j.accepted = steady::now();
    const message mv = view_of(*g.message);
    const eval_context ctx{mv, g.message->timestamp_ms, rule.identity->account};
    for (const auto& t : rule.error_action->templates) {
      auto v = detail::render(t, ctx);
      j.values.push_back(v ? std::move(*v) : std::string{});
    }
    std::string copy = *j.output;
    const auto r = exec->submit(std::move(j), std::chrono::milliseconds(0));
    if (r == submit_result::accepted) {
      rule.counters->error_actions_sent.fetch_add(1, std::memory_order_relaxed);
    } else {
      unreported(rule.counters.get(),
                 fmt::format("errorAction queue of rule {} full or stopped: {}",
                             rule.identity->name, copy));
      if (tracker && r == submit_result::stopped) tracker->stopped = true;
      release();
    }
  }

  void add_failure(invocation_group& g, const action_slot& slot, std::string why) {
    std::lock_guard lock{g.m};
    g.failures.push_back({slot.failed_action, slot.resource, std::move(why)});
  }

  void on_final(job& j, const action_status& s) {
    auto& slot = *j.slot;
    rule_counters* c = slot.counters ? slot.counters.get() : &internal;
    (s.ok() ? c->succeeded : c->failed).fetch_add(1, std::memory_order_relaxed);
    c->add_latency(static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - j.accepted).count()));
    if (!s.ok()) {
      const std::string why = s.message.empty() ? s.code.message() : s.message;
      if (j.group) {
        add_failure(*j.group, slot, why);
      } else if (slot.is_error_action) {
        unreported(c,
                   fmt::format("errorAction {} of rule {} failed ({}) for: {}", slot.type,
                               slot.rule ? slot.rule->name : "", why, j.output ? *j.output : ""));
      } else {
        unreported(c, fmt::format("alarm notification to {} failed: {}", slot.resource, why));
      }
    }
    if (j.group && j.group->pending.fetch_sub(1, std::memory_order_acq_rel) == 1)
      finish_group(*j.group);
    if (j.tracker) {
      if (s.code == error::stopped) j.tracker->stopped = true;
      std::exchange(j.tracker, nullptr)->release();
    }
  }

  void queue_alarm(const alarm_transition& t) {
    static const auto none = std::make_shared<const message_record>();
    for (const auto& target : t.actions()) {
      job j;
      j.slot = alarm_slot;
      j.message = none;
      j.output = std::make_shared<const std::string>(t.to_json());
      j.values = {target,
                  fmt::format("{}: \"{}\" in {}", to_string(t.to), t.alarm->name, opt.region)};
      j.accepted = steady::now();
      if (exec->submit(std::move(j)) != submit_result::accepted) {
        unreported(nullptr,
                   fmt::format("alarm notification queue full: {} -> {}", t.alarm->name, target));
      }
    }
  }
};

namespace {

/// Delivers alarm state changes to notify topics or functions (values: target, subject).
class alarm_notify_action final : public action {
 public:
  explicit alarm_notify_action(const services* s) : s_(s) {}
  std::string resource() const override { return "alarm actions"; }
  action_status execute(const action_input& in) override {
    const std::string& target = in.values[0];
    if (target.find(":function:") != std::string::npos) {
      auto name = target.substr(target.find(":function:") + 10);
      auto fn = s_->find_function(name);
      if (!fn) return action_status::fail(error::no_such_destination, "no function " + name);
      static const rule_identity alarm_rule{"", "", ""};
      auto r = fn(function_event{alarm_rule, in.message, in.output});
      return r ? action_status{} : action_status::fail(r.error(), r.describe(), true);
    }
    std::vector<std::string> none;
    auto& delivered = in.progress ? *in.progress : none;
    auto r = s_->notify->publish(target, in.output, message_format::raw, in.values[1], delivered);
    if (!r) return action_status::fail(r.error(), r.describe());
    for (auto& d : r->delivered) delivered.push_back(std::move(d));
    if (r->failures.empty()) return {};
    return action_status::fail(
        error::action_failed,
        fmt::format("{}: {}", r->failures[0].first, r->failures[0].second.describe()), true);
  }

 private:
  const services* s_;
};

}  // namespace

engine::engine(engine_options options) : impl_(std::make_unique<impl>(std::move(options))) {
  auto& m = *impl_;
  m.svc.time = m.time;
  m.svc.region = m.opt.region;
  m.svc.account = m.opt.account;
  m.svc.metrics = &m.metrics;
  m.svc.notify = &m.notify;
  m.svc.publisher = m.opt.publisher;
  m.svc.http = m.opt.http;
  m.svc.command = m.opt.command;
  m.svc.store = m.opt.store;
  if (!m.svc.store && !m.opt.store_path.empty()) {
    m.svc.store = item_store::open(m.opt.store_path).value();
  }
  impl* self = impl_.get();
  m.svc.find_function = [self](std::string_view name) -> function_callback {
    std::shared_lock lock{self->registry_m};
    auto it = self->functions.find(name);
    return it == self->functions.end() ? function_callback{} : it->second;
  };
  register_builtins(m.factories, m.svc);
  m.alarm_slot = std::make_shared<action_slot>();
  m.alarm_slot->impl = std::make_unique<alarm_notify_action>(&self->svc);
  m.alarm_slot->type = "alarm";
  m.alarm_slot->failed_action = "AlarmAction";
  m.alarm_slot->resource = "alarm actions";
  m.alarm_slot->capacity = m.opt.queue_capacity;
  m.exec = std::make_unique<executor>(
      m.opt.worker_threads, m.opt.retry,
      [self](job& j, const action_status& s) { self->on_final(j, s); },
      [](job& j) {
        if (j.slot->counters) j.slot->counters->retried.fetch_add(1, std::memory_order_relaxed);
      });
  m.metrics.on_transition([self](const alarm_transition& t) { self->queue_alarm(t); });
  if (m.opt.tick_interval.count() > 0) {
    m.ticker = std::thread([self] {
      std::unique_lock lock{self->tick_m};
      while (
          !self->tick_cv.wait_for(lock, self->opt.tick_interval, [&] { return self->tick_stop; })) {
        lock.unlock();
        self->metrics.evaluate();
        lock.lock();
      }
    });
  }
}

engine::~engine() { stop(); }

void engine::stop(std::chrono::milliseconds limit) {
  {
    std::lock_guard lock{impl_->tick_m};
    impl_->tick_stop = true;
  }
  impl_->tick_cv.notify_all();
  if (impl_->ticker.joinable()) impl_->ticker.join();
  impl_->stopped = true;
  impl_->exec->stop(limit);
}

const engine_options& engine::options() const noexcept { return impl_->opt; }

result<void> engine::add_rule(std::string_view name, std::string_view text,
                              std::string_view account) {
  return impl_->install(name, text, account, true, false);
}
result<void> engine::replace_rule(std::string_view name, std::string_view text,
                                  std::string_view account) {
  return impl_->install(name, text, account, false, true);
}
result<void> engine::put_rule(std::string_view name, std::string_view text,
                              std::string_view account) {
  return impl_->install(name, text, account, true, true);
}

bool engine::remove_rule(std::string_view name) {
  std::unique_lock lock{impl_->rules_m};
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) return false;
  impl_->index.unsubscribe(it->second->from, it->second->id);
  impl_->by_id.erase(it->second->id);
  impl_->by_name.erase(it);
  return true;
}

result<void> engine::set_rule_enabled(std::string_view name, bool enabled) {
  std::shared_lock lock{impl_->rules_m};
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) return {error::no_such_rule, fmt::format("no rule {}", name)};
  it->second->enabled = enabled;
  return {};
}

std::optional<rule_info> engine::rule(std::string_view name) const {
  std::shared_lock lock{impl_->rules_m};
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) return std::nullopt;
  rule_info info{*it->second->identity, it->second->doc, it->second->from};
  info.document.disabled = !it->second->enabled;
  return info;
}

std::vector<std::string> engine::rule_names() const {
  std::shared_lock lock{impl_->rules_m};
  std::vector<std::string> out;
  for (const auto& [name, rt] : impl_->by_name) out.push_back(name);
  return out;
}

std::size_t engine::rule_count() const {
  std::shared_lock lock{impl_->rules_m};
  return impl_->by_name.size();
}

result<rule_info> engine::check_rule(std::string_view name, std::string_view text,
                                     std::string_view account) const {
  auto built = impl_->build(name, text, account);
  if (!built) return std::move(built).take_failure();
  return rule_info{*(*built)->identity, (*built)->doc, (*built)->from};
}

std::size_t engine::dispatch(const message& m) { return dispatch(m, dispatch_done{}); }

std::size_t engine::dispatch(const message& m, dispatch_done done) {
  bool unused = false;
  return run(m, std::move(done), std::nullopt, unused);
}

std::optional<std::size_t> engine::dispatch_to(std::string_view rule, const message& m,
                                               dispatch_done done) {
  bool found = false;
  const std::size_t matched = run(m, std::move(done), rule, found);
  if (!found) return std::nullopt;
  return matched;
}

std::size_t engine::run(const message& m, dispatch_done done, std::optional<std::string_view> only,
                        bool& rule_found) {
  std::shared_ptr<dispatch_tracker> tracker;
  if (done) {
    tracker = std::make_shared<dispatch_tracker>();
    tracker->done = std::move(done);
  }
  // Released when this function returns, whichever way.
  const std::unique_ptr<dispatch_tracker, void (*)(dispatch_tracker*)> own{
      tracker.get(), [](dispatch_tracker* t) { t->release(); }};
  if (impl_->stopped.load(std::memory_order_relaxed)) {
    if (tracker) tracker->stopped = true;
    return 0;
  }
  if (!only && topic::validate_name(m.topic)) return 0;  // dispatch_to: the tail of a valid name
  thread_local std::vector<topic::match_entry> matches;
  thread_local std::vector<std::shared_ptr<rule_runtime>> found;
  matches.clear();
  found.clear();
  {
    // Index lookup and rule lookup under one shared lock, so that a replace (which
    // swaps the subscription under the exclusive lock) is seen entirely or not at all.
    std::shared_lock lock{impl_->rules_m};
    if (only) {
      if (auto it = impl_->by_name.find(*only); it != impl_->by_name.end()) {
        found.push_back(it->second);
        rule_found = true;
      }
    } else {
      impl_->index.match(m.topic, matches);
      for (const auto& e : matches) {
        auto it = impl_->by_id.find(e.subscriber);
        if (it != impl_->by_id.end()) found.push_back(it->second);
      }
    }
  }
  if (found.empty()) return 0;
  const std::int64_t ts = m.timestamp_ms ? *m.timestamp_ms : impl_->time->now_ms();
  const auto accepted = steady::now();
  std::shared_ptr<const message_record> record;
  std::size_t matched = 0;
  for (const auto& rt : found) {
    if (!rt->enabled.load(std::memory_order_relaxed)) continue;
    rt->counters->evaluated.fetch_add(1, std::memory_order_relaxed);
    const eval_context ctx{m, ts, rt->identity->account};
    auto out = detail::evaluate(*rt->query, ctx);
    if (out && !*out) continue;
    if (!record) {
      record = std::make_shared<const message_record>(message_record{
          std::string(m.topic), std::string(as_string_view(m.payload)),
          std::string(m.client_id.value_or("")), std::string(m.principal.value_or("")),
          std::string(m.source_ip.value_or("")), ts, m.qos});
    }
    auto group = std::make_shared<invocation_group>();
    group->rule = rt;
    group->message = record;
    if (tracker) {
      tracker->hold();
      group->tracker = tracker;
    }
    if (!out) {
      rt->counters->evaluation_errors.fetch_add(1, std::memory_order_relaxed);
      group->failures.push_back({"SqlEvaluation", rt->from, out.describe()});
      impl_->finish_group(*group);
      continue;
    }
    rt->counters->matched.fetch_add(1, std::memory_order_relaxed);
    ++matched;
    if (rt->actions.empty()) {
      impl_->finish_group(*group);
      continue;
    }
    auto output = std::make_shared<const std::string>(**out);
    group->pending.store(rt->actions.size() + 1, std::memory_order_relaxed);
    for (const auto& slot : rt->actions) {
      job j;
      j.slot = slot;
      j.group = group;
      j.message = record;
      j.output = output;
      j.accepted = accepted;
      j.values.reserve(slot->templates.size());
      bool rendered = true;
      for (const auto& t : slot->templates) {
        auto v = detail::render(t, ctx);
        if (!v) {
          impl_->add_failure(*group, *slot, fmt::format("substitution template: {}", v.describe()));
          rt->counters->failed.fetch_add(1, std::memory_order_relaxed);
          rendered = false;
          break;
        }
        j.values.push_back(std::move(*v));
      }
      if (!rendered) {
        group->pending.fetch_sub(1, std::memory_order_relaxed);
        continue;
      }
      const auto wait = impl_->opt.overflow == overflow_policy::block
                            ? impl_->opt.block_timeout
                            : std::chrono::milliseconds(0);
      const auto r = impl_->exec->submit(std::move(j), wait);
      if (r != submit_result::accepted) {
        rt->counters->dropped.fetch_add(1, std::memory_order_relaxed);
        if (tracker && r == submit_result::stopped) tracker->stopped = true;
        if (tracker && r == submit_result::full) tracker->dropped = true;
        impl_->add_failure(
            *group, *slot,
            r == submit_result::full
                ? fmt::format("action queue full ({} pending); invocation dropped", slot->capacity)
                : std::string("the rules engine is stopping"));
        group->pending.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    if (group->pending.fetch_sub(1, std::memory_order_acq_rel) == 1) impl_->finish_group(*group);
  }
  found.clear();  // do not keep removed rules alive in this thread
  return matched;
}

void engine::register_action(std::string type, action_factory factory) {
  std::unique_lock lock{impl_->registry_m};
  impl_->factories[std::move(type)] = std::move(factory);
}

void engine::register_function(std::string name, function_callback fn) {
  std::unique_lock lock{impl_->registry_m};
  impl_->functions[std::move(name)] = std::move(fn);
}

void engine::set_resource_policy(std::string_view arn, const policy::document* doc) {
  std::unique_lock lock{impl_->registry_m};
  if (doc && *doc) {
    impl_->policies.insert_or_assign(std::string(arn), *doc);
  } else if (auto it = impl_->policies.find(arn); it != impl_->policies.end()) {
    impl_->policies.erase(it);
  }
}

std::optional<rule_metrics> engine::metrics(std::string_view name) const {
  std::shared_lock lock{impl_->rules_m};
  auto it = impl_->by_name.find(name);
  if (it == impl_->by_name.end()) return std::nullopt;
  return it->second->counters->snapshot();
}

rule_metrics engine::totals() const {
  rule_metrics t = impl_->internal.snapshot();
  std::shared_lock lock{impl_->rules_m};
  for (const auto& [name, rt] : impl_->by_name) {
    const auto s = rt->counters->snapshot();
    t.evaluated += s.evaluated;
    t.matched += s.matched;
    t.evaluation_errors += s.evaluation_errors;
    t.actions_succeeded += s.actions_succeeded;
    t.actions_failed += s.actions_failed;
    t.actions_retried += s.actions_retried;
    t.actions_dropped += s.actions_dropped;
    t.error_actions_sent += s.error_actions_sent;
    t.unreported += s.unreported;
    t.latency_count += s.latency_count;
    t.latency_total_us += s.latency_total_us;
    t.latency_max_us = std::max(t.latency_max_us, s.latency_max_us);
  }
  return t;
}

metric_store& engine::metrics_store() noexcept { return impl_->metrics; }
notifier& engine::notifier() noexcept { return impl_->notify; }
std::shared_ptr<item_store> engine::items() const noexcept { return impl_->svc.store; }

void engine::tick() { impl_->metrics.evaluate(); }

bool engine::flush(std::chrono::milliseconds limit) { return impl_->exec->wait_idle(limit); }

}  // namespace iotblocks::rules
