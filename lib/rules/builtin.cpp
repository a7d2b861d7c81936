#include "rules/builtin.hpp"

#include "rules/params.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace iotblocks::rules::detail {
namespace {

bool is_template(std::string_view s) { return s.find("${") != std::string_view::npos; }

// http:// or https:// (any case) and a host; the transport checks the rest when sending.
bool is_http_url(std::string_view url) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  for (std::string_view scheme : {"http://", "https://"}) {
    if (url.size() <= scheme.size()) continue;
    if (std::equal(scheme.begin(), scheme.end(), url.begin(),
                   [&](char a, char b) { return a == lower(b); })) {
      const char first = url[scheme.size()];
      return first != '/' && first != '?' && first != '#' && first != ':';
    }
  }
  return false;
}

// timeoutMs, 1 ms to 10 min; absent: the transport's default.
result<std::optional<std::chrono::milliseconds>> optional_timeout(const params& p) {
  if (!p.find("timeoutMs")) return std::optional<std::chrono::milliseconds>{};
  auto t = p.integer("timeoutMs", 0, 1, 600'000);
  if (!t) return std::move(t).take_failure();
  return std::optional<std::chrono::milliseconds>{std::chrono::milliseconds(*t)};
}

std::string arn_account(std::string_view arn) {
  // arn:partition:service:region:account:resource
  std::size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  const auto end = arn.find(':', pos);
  return end == std::string_view::npos ? std::string{} : std::string(arn.substr(pos, end - pos));
}

// ---------------------------------------------------------------- republish
class republish_action final : public action {
 public:
  republish_action(const services& s, std::string topic, std::uint8_t qos, bool retain)
      : s_(s), topic_(std::move(topic)), qos_(qos), retain_(retain) {}
  std::vector<std::string> templates() const override { return {topic_}; }
  std::string resource() const override { return topic_; }
  action_status execute(const action_input& in) override {
    if (!s_.publisher) {
      return action_status::fail(error::no_such_destination,
                                 "no publisher is configured for republish");
    }
    const std::string& topic = in.values[0];
    if (topic.empty() || topic.find_first_of("+#") != std::string::npos) {
      return action_status::fail(
          error::action_failed,
          fmt::format("republish topic \"{}\" is not a valid topic name", topic));
    }
    auto r = s_.publisher->publish(topic, in.output, qos_, retain_);
    if (!r) return action_status::fail(r.error(), r.describe(), true);
    return {};
  }

 private:
  const services& s_;
  std::string topic_;
  std::uint8_t qos_;
  bool retain_;
};

// ---------------------------------------------------------------- dynamoDB
class store_action final : public action {
 public:
  store_action(const services& s, item proto, std::string table, std::string hash,
               std::string range, std::optional<bool> range_number)
      : s_(s),
        proto_(std::move(proto)),
        table_(std::move(table)),
        hash_(std::move(hash)),
        range_(std::move(range)),
        range_number_(range_number) {}
  std::vector<std::string> templates() const override { return {table_, hash_, range_}; }
  std::string resource() const override { return table_; }
  std::size_t max_batch() const noexcept override { return 1024; }

  action_status execute(const action_input& in) override {
    action_status st;
    execute_batch(std::span<const action_input>(&in, 1), std::span<action_status>(&st, 1));
    return st;
  }

  void execute_batch(std::span<const action_input> in, std::span<action_status> out) override {
    if (!s_.store) {
      for (auto& o : out) {
        o = action_status::fail(
            error::no_such_destination,
            "no item store is configured (engine_options::store or store_path)");
      }
      return;
    }
    std::vector<item> items;
    std::vector<std::size_t> index;
    items.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      item it = proto_;
      it.table = in[i].values[0];
      it.hash_key = in[i].values[1];
      it.range_key = in[i].values[2];
      if (it.table.empty() || it.hash_key.empty() || (!range_.empty() && it.range_key.empty())) {
        out[i] = action_status::fail(
            error::action_failed,
            fmt::format("table name, hash key and range key must not be empty (table \"{}\", hash "
                        "\"{}\", range \"{}\")",
                        it.table, it.hash_key, it.range_key));
        continue;
      }
      it.range_is_number = range_number_.value_or(true);
      it.payload = in[i].output;
      items.push_back(std::move(it));
      index.push_back(i);
    }
    if (items.empty()) return;
    auto r = s_.store->put_batch(items);
    for (std::size_t k = 0; k < index.size(); ++k) {
      out[index[k]] = r ? action_status{} : action_status::fail(r.error(), r.describe(), true);
    }
  }

 private:
  const services& s_;
  item proto_;
  std::string table_, hash_, range_;
  std::optional<bool> range_number_;
};

// ---------------------------------------------------------------- http
class http_action final : public action {
 public:
  http_action(const services& s, std::string url, std::string method,
              std::vector<std::pair<std::string, std::string>> headers,
              std::optional<std::chrono::milliseconds> timeout)
      : s_(s),
        url_(std::move(url)),
        method_(std::move(method)),
        headers_(std::move(headers)),
        timeout_(timeout) {}
  std::vector<std::string> templates() const override {
    std::vector<std::string> t{url_};
    for (const auto& [k, v] : headers_) t.push_back(v);
    return t;
  }
  std::string resource() const override { return url_; }
  action_status execute(const action_input& in) override {
    if (!s_.http) {
      return action_status::fail(error::no_such_destination,
                                 "no http transport is configured (engine_options::http)");
    }
    http_request req;
    req.method = method_;
    req.url = in.values[0];
    for (std::size_t i = 0; i < headers_.size(); ++i)
      req.headers.emplace_back(headers_[i].first, in.values[i + 1]);
    bool has_type = false;
    for (const auto& [k, v] : headers_)
      has_type = has_type || k == "content-type" || k == "Content-Type";
    if (!has_type) req.headers.emplace_back("content-type", "application/json");
    req.body = in.output;
    req.timeout = timeout_;
    auto res = s_.http->send(req);
    if (!res) {
      const bool retry = res.error() != error::invalid_action;
      return action_status::fail(res.error(),
                                 fmt::format("{} {}: {}", method_, req.url, res.describe()), retry);
    }
    if (res->status / 100 == 2) return {};
    const bool retry = res->status >= 500 || res->status == 429 || res->status == 408;
    return action_status::fail(error::action_failed,
                               fmt::format("{} {}: HTTP status {}", method_, req.url, res->status),
                               retry);
  }

 private:
  const services& s_;
  std::string url_, method_;
  std::vector<std::pair<std::string, std::string>> headers_;
  std::optional<std::chrono::milliseconds> timeout_;
};

// ---------------------------------------------------------------- cloudwatchMetric
class metric_action final : public action {
 public:
  metric_action(const services& s, std::vector<std::string> t) : s_(s), t_(std::move(t)) {}
  std::vector<std::string> templates() const override { return t_; }
  std::string resource() const override { return t_[0] + "/" + t_[1]; }
  action_status execute(const action_input& in) override {
    metric_datum d;
    d.metric_namespace = in.values[0];
    d.metric_name = in.values[1];
    const std::string& v = in.values[2];
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d.value);
    if (ec != std::errc{} || p != v.data() + v.size() || !std::isfinite(d.value)) {
      return action_status::fail(error::invalid_metric,
                                 fmt::format("metricValue \"{}\" is not a number", v));
    }
    d.unit = in.values[3].empty() ? "None" : in.values[3];
    d.timestamp_ms = in.message.timestamp_ms;
    if (!in.values[4].empty()) {
      std::int64_t secs = 0;
      const std::string& ts = in.values[4];
      auto [p2, ec2] = std::from_chars(ts.data(), ts.data() + ts.size(), secs);
      if (ec2 != std::errc{} || p2 != ts.data() + ts.size()) {
        return action_status::fail(error::invalid_metric,
                                   fmt::format("metricTimestamp \"{}\" is not Unix seconds", ts));
      }
      d.timestamp_ms = secs * 1000;
    }
    auto r = s_.metrics->put(d);
    if (!r) return action_status::fail(r.error(), r.describe());
    return {};
  }

 private:
  const services& s_;
  std::vector<std::string> t_;  // namespace, name, value, unit, timestamp
};

// ---------------------------------------------------------------- sns
class sns_action final : public action {
 public:
  sns_action(const services& s, std::string target, message_format f)
      : s_(s), target_(std::move(target)), format_(f) {}
  std::string resource() const override { return target_; }
  destination_ref destination() const override { return {target_, "sns:Publish"}; }
  action_status execute(const action_input& in) override {
    std::vector<std::string> none;
    auto& delivered = in.progress ? *in.progress : none;
    auto r = s_.notify->publish(target_, in.output, format_, {}, delivered);
    if (!r) return action_status::fail(r.error(), r.describe());
    for (auto& d : r->delivered) delivered.push_back(std::move(d));
    if (r->failures.empty()) return {};
    std::string why;
    for (const auto& [sub, f] : r->failures) {
      why += fmt::format("{}{}: {}", why.empty() ? "" : "; ", sub, f.describe());
    }
    return action_status::fail(error::action_failed, why, true);
  }

 private:
  const services& s_;
  std::string target_;
  message_format format_;
};

// ---------------------------------------------------------------- command
class command_action final : public action {
 public:
  command_action(const services& s, std::string host, std::uint16_t port, std::string payload,
                 std::string expect, bool read_reply,
                 std::optional<std::chrono::milliseconds> timeout)
      : s_(s),
        host_(std::move(host)),
        port_(port),
        payload_(std::move(payload)),
        expect_(std::move(expect)),
        read_reply_(read_reply),
        timeout_(timeout) {}
  std::vector<std::string> templates() const override { return {host_, payload_}; }
  std::string resource() const override { return fmt::format("{}:{}", host_, port_); }
  action_status execute(const action_input& in) override {
    if (!s_.command) {
      return action_status::fail(error::no_such_destination,
                                 "no command transport is configured (engine_options::command)");
    }
    command_request req;
    req.host = in.values[0];
    req.port = port_;
    req.payload = payload_.empty() ? in.output : std::string_view(in.values[1]);
    req.expect = expect_;
    req.read_reply = read_reply_;
    req.timeout = timeout_;
    auto reply = s_.command->exchange(req);
    if (reply) return {};
    const bool retry =
        reply.error() != error::invalid_action && reply.error() != error::action_failed;
    return action_status::fail(
        reply.error(), fmt::format("{}:{}: {}", in.values[0], port_, reply.describe()), retry);
  }

 private:
  const services& s_;
  std::string host_;
  std::uint16_t port_;
  std::string payload_;
  std::string expect_;
  bool read_reply_;
  std::optional<std::chrono::milliseconds> timeout_;
};

// ---------------------------------------------------------------- function / lambda
class function_action final : public action {
 public:
  function_action(const services& s, std::string name, std::string arn)
      : s_(s), name_(std::move(name)), arn_(std::move(arn)) {}
  std::string resource() const override { return arn_; }
  destination_ref destination() const override { return {arn_, "lambda:InvokeFunction"}; }
  action_status execute(const action_input& in) override {
    auto fn = s_.find_function(name_);
    if (!fn) {
      return action_status::fail(error::no_such_destination,
                                 fmt::format("no function \"{}\" is registered", name_));
    }
    auto r = fn(function_event{in.rule, in.message, in.output});
    if (!r) return action_status::fail(r.error(), r.describe(), true);
    return {};
  }

 private:
  const services& s_;
  std::string name_;
  std::string arn_;
};

result<std::unique_ptr<action>> make_republish(const services& s, std::string_view text) {
  auto p = params::parse("republish", text);
  if (!p) return std::move(p).take_failure();
  auto topic = p->required_string("topic");
  if (!topic) return std::move(topic).take_failure();
  auto qos = p->integer("qos", 0, 0, 1);
  if (!qos) return std::move(qos).take_failure();
  auto retain = p->boolean("retain", false);
  if (!retain) return std::move(retain).take_failure();
  return std::unique_ptr<action>(
      new republish_action(s, *topic, static_cast<std::uint8_t>(*qos), *retain));
}

result<std::unique_ptr<action>> make_store(const services& s, std::string_view text) {
  auto p = params::parse("dynamoDB", text);
  if (!p) return std::move(p).take_failure();
  auto table = p->required_string("tableName");
  auto hash_field = p->required_string("hashKeyField");
  auto hash_value = p->required_string("hashKeyValue");
  for (auto* r : {&table, &hash_field, &hash_value}) {
    if (!*r) return std::move(*r).take_failure();
  }
  auto range_field = p->optional_string("rangeKeyField");
  auto range_value = p->optional_string("rangeKeyValue");
  auto range_type = p->optional_string("rangeKeyType");
  auto hash_type = p->optional_string("hashKeyType");
  auto payload_field = p->optional_string("payloadField");
  auto operation = p->optional_string("operation");
  for (auto* r :
       {&range_field, &range_value, &range_type, &hash_type, &payload_field, &operation}) {
    if (!*r) return std::move(*r).take_failure();
  }
  if (range_field->has_value() != range_value->has_value()) {
    return p->bad("rangeKeyField", "and \"rangeKeyValue\" go together");
  }
  std::optional<bool> range_number;
  if (range_type->has_value()) {
    if (**range_type == "NUMBER") {
      range_number = true;
    } else if (**range_type == "STRING") {
      range_number = false;
    } else {
      return p->bad("rangeKeyType", "is STRING or NUMBER");
    }
  }
  if (hash_type->has_value() && **hash_type != "STRING" && **hash_type != "NUMBER") {
    return p->bad("hashKeyType", "is STRING or NUMBER");
  }
  if (operation->has_value() && **operation != "INSERT" && **operation != "UPDATE") {
    return p->bad("operation", "is INSERT or UPDATE (DELETE is not supported)");
  }
  item proto;
  proto.hash_key_field = *hash_field;
  proto.range_key_field = range_field->value_or("");
  proto.payload_field = payload_field->value_or("payload");
  return std::unique_ptr<action>(new store_action(s, std::move(proto), *table, *hash_value,
                                                  range_value->value_or(""), range_number));
}

result<std::unique_ptr<action>> make_http(const services& s, std::string_view text) {
  auto p = params::parse("http", text);
  if (!p) return std::move(p).take_failure();
  auto url = p->required_string("url");
  if (!url) return std::move(url).take_failure();
  if (!is_template(*url) && !is_http_url(*url)) {
    return p->bad("url", "must be an absolute http:// or https:// URL with a host");
  }
  auto method = p->optional_string("method");
  if (!method) return std::move(method).take_failure();
  auto timeout = optional_timeout(*p);
  if (!timeout) return std::move(timeout).take_failure();
  std::vector<std::pair<std::string, std::string>> headers;
  if (const auto* h = p->find("headers")) {
    if (!h->IsArray()) return p->bad("headers", "must be an array of {\"key\", \"value\"}");
    for (const auto& e : h->GetArray()) {
      const auto k = e.IsObject() ? json::get_string(e, "key") : std::nullopt;
      const auto v = e.IsObject() ? json::get_string(e, "value") : std::nullopt;
      if (!k || !v || k->empty())
        return p->bad("headers", "must be an array of {\"key\", \"value\"}");
      headers.emplace_back(std::string(*k), std::string(*v));
    }
  }
  return std::unique_ptr<action>(
      new http_action(s, *url, method->value_or("POST"), std::move(headers), *timeout));
}

result<std::unique_ptr<action>> make_metric(const services& s, std::string_view text) {
  auto p = params::parse("cloudwatchMetric", text);
  if (!p) return std::move(p).take_failure();
  std::vector<std::string> t;
  for (const char* key : {"metricNamespace", "metricName", "metricValue"}) {
    auto v = p->required_string(key);
    if (!v) return std::move(v).take_failure();
    t.push_back(std::move(*v));
  }
  for (const char* key : {"metricUnit", "metricTimestamp"}) {
    auto v = p->optional_string(key);
    if (!v) return std::move(v).take_failure();
    t.push_back(v->value_or(""));
  }
  return std::unique_ptr<action>(new metric_action(s, std::move(t)));
}

result<std::unique_ptr<action>> make_sns(const services& s, std::string_view text) {
  auto p = params::parse("sns", text);
  if (!p) return std::move(p).take_failure();
  auto target = p->required_string("targetArn");
  if (!target) return std::move(target).take_failure();
  auto format = p->optional_string("messageFormat");
  if (!format) return std::move(format).take_failure();
  message_format f = message_format::raw;
  if (format->has_value()) {
    if (**format == "JSON") {
      f = message_format::json;
    } else if (**format != "RAW") {
      return p->bad("messageFormat", "is RAW or JSON");
    }
  }
  std::string arn = *target;
  if (!arn.starts_with("arn:")) arn = fmt::format("arn:aws:sns:{}:{}:{}", s.region, s.account, arn);
  return std::unique_ptr<action>(new sns_action(s, std::move(arn), f));
}

result<std::unique_ptr<action>> make_command(const services& s, std::string_view text) {
  auto p = params::parse("command", text);
  if (!p) return std::move(p).take_failure();
  auto host = p->required_string("host");
  if (!host) return std::move(host).take_failure();
  auto port = p->integer("port", 0, 1, 65535);
  if (!port) return std::move(port).take_failure();
  if (!p->find("port")) return p->bad("port", "is required");
  auto payload = p->optional_string("payload");
  auto expect = p->optional_string("expect");
  for (auto* r : {&payload, &expect}) {
    if (!*r) return std::move(*r).take_failure();
  }
  auto timeout = optional_timeout(*p);
  if (!timeout) return std::move(timeout).take_failure();
  auto read_reply = p->boolean("readReply", true);
  if (!read_reply) return std::move(read_reply).take_failure();
  return std::unique_ptr<action>(new command_action(s, *host, static_cast<std::uint16_t>(*port),
                                                    payload->value_or(""), expect->value_or(""),
                                                    *read_reply, *timeout));
}

result<std::unique_ptr<action>> make_function(const services& s, std::string_view type,
                                              std::string_view text) {
  auto p = params::parse(type, text);
  if (!p) return std::move(p).take_failure();
  std::string name;
  std::string arn;
  if (type == "lambda") {
    auto a = p->required_string("functionArn");
    if (!a) return std::move(a).take_failure();
    const auto pos = a->find(":function:");
    if (!a->starts_with("arn:") || pos == std::string::npos || arn_account(*a).empty()) {
      return p->bad("functionArn", "must be arn:aws:lambda:<region>:<account>:function:<name>");
    }
    arn = *a;
    name = a->substr(pos + 10);
    if (const auto q = name.find(':'); q != std::string::npos) name.resize(q);  // drop a qualifier
  } else {
    auto n = p->required_string("functionName");
    if (!n) return std::move(n).take_failure();
    name = *n;
    arn = fmt::format("arn:aws:lambda:{}:{}:function:{}", s.region, s.account, name);
  }
  return std::unique_ptr<action>(new function_action(s, std::move(name), std::move(arn)));
}

}  // namespace

std::string failed_action_name(std::string_view type) {
  if (type == "dynamoDB") return "DynamoAction";
  if (type == "cloudwatchMetric") return "CloudwatchMetricAction";
  std::string out(type);
  if (!out.empty() && out[0] >= 'a' && out[0] <= 'z')
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
  return out + "Action";
}

void register_builtins(std::map<std::string, action_factory, std::less<>>& f, const services& s) {
  const services* sp = &s;
  f["republish"] = [sp](std::string_view t) { return make_republish(*sp, t); };
  f["dynamoDB"] = [sp](std::string_view t) { return make_store(*sp, t); };
  f["http"] = [sp](std::string_view t) { return make_http(*sp, t); };
  f["cloudwatchMetric"] = [sp](std::string_view t) { return make_metric(*sp, t); };
  f["sns"] = [sp](std::string_view t) { return make_sns(*sp, t); };
  f["command"] = [sp](std::string_view t) { return make_command(*sp, t); };
  f["function"] = [sp](std::string_view t) { return make_function(*sp, "function", t); };
  f["lambda"] = [sp](std::string_view t) { return make_function(*sp, "lambda", t); };
  register_anomaly(f, s);
}

}  // namespace iotblocks::rules::detail
