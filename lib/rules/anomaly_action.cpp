// The `anomaly` action: scores fields of the SELECT output per key with the
// anomaly component's keyed detector store and republishes the output with
// each field's mean, standard deviation, bounds, P and flag.
#include <iotblocks/anomaly/keyed_store.hpp>

#include "rules/builtin.hpp"
#include "rules/params.hpp"

#include <cmath>

namespace iotblocks::rules::detail {
namespace {

class anomaly_action final : public action {
 public:
  anomaly_action(const services& s, anomaly::keyed_store store, std::string key,
                 std::vector<std::string> fields, std::string topic, std::uint8_t qos, bool only)
      : s_(s),
        store_(std::move(store)),
        key_(std::move(key)),
        fields_(std::move(fields)),
        topic_(std::move(topic)),
        qos_(qos),
        only_anomalies_(only) {}
  std::vector<std::string> templates() const override { return {key_, topic_}; }
  std::string resource() const override { return topic_; }

  action_status execute(const action_input& in) override {
    auto doc = json::parse(in.output);
    if (!doc || !doc->IsObject()) {
      return action_status::fail(error::action_failed,
                                 "anomaly: the SELECT output is not a JSON object");
    }
    auto& a = doc->GetAllocator();
    rapidjson::Value scores(rapidjson::kObjectType);
    bool any = false;
    for (const auto& field : fields_) {
      const auto* v = json::find(*doc, field);
      if (!v || !v->IsNumber()) continue;  // a message without the field is not scored
      auto r = store_.score(in.values[0], field, v->GetDouble(), in.message.timestamp_ms);
      if (!r)
        return action_status::fail(r.error(), fmt::format("anomaly: {}: {}", field, r.describe()));
      any = any || r->anomaly;
      rapidjson::Value o(rapidjson::kObjectType);
      auto num = [&](const char* k, double x) {
        if (std::isfinite(x)) o.AddMember(rapidjson::StringRef(k), rapidjson::Value(x), a);
      };
      num("value", r->value);
      num("mean", r->mean);
      num("std", r->stddev);
      num("lower", r->lower);
      num("upper", r->upper);
      num("p", r->p);
      num("score", r->score);
      num("raw", r->raw);
      o.AddMember("anomaly", rapidjson::Value(r->anomaly), a);
      o.AddMember("warmingUp", rapidjson::Value(r->warming_up), a);
      scores.AddMember(json::string_value(field, a), o, a);
    }
    if (only_anomalies_ && !any) return {};
    doc->RemoveMember("anomaly");
    doc->AddMember("anomaly", scores, a);
    if (!s_.publisher) {
      return action_status::fail(error::no_such_destination,
                                 "no publisher is configured for anomaly");
    }
    auto r = s_.publisher->publish(in.values[1], json::write(*doc), qos_, false);
    if (!r) return action_status::fail(r.error(), r.describe(), true);
    return {};
  }

 private:
  const services& s_;
  anomaly::keyed_store store_;
  std::string key_;
  std::vector<std::string> fields_;
  std::string topic_;
  std::uint8_t qos_;
  bool only_anomalies_;
};

result<std::unique_ptr<action>> make_anomaly(const services& s, std::string_view text) {
  auto p = params::parse("anomaly", text);
  if (!p) return std::move(p).take_failure();
  auto detector = p->optional_string("detector");
  auto parameters = p->optional_string("parameters");
  auto key = p->required_string("key");
  auto topic = p->required_string("republishTopic");
  if (!detector) return std::move(detector).take_failure();
  if (!parameters) return std::move(parameters).take_failure();
  if (!key) return std::move(key).take_failure();
  if (!topic) return std::move(topic).take_failure();
  auto qos = p->integer("qos", 0, 0, 1);
  if (!qos) return std::move(qos).take_failure();
  auto only = p->boolean("onlyAnomalies", false);
  if (!only) return std::move(only).take_failure();
  auto max_series = p->integer("maxSeries", 1'000'000, 1, 100'000'000);
  if (!max_series) return std::move(max_series).take_failure();
  std::vector<std::string> fields;
  const auto* f = p->find("fields");
  if (!f || !f->IsArray() || f->Empty())
    return p->bad("fields", "must be a non-empty array of names");
  for (const auto& e : f->GetArray()) {
    if (!e.IsString() || e.GetStringLength() == 0)
      return p->bad("fields", "must be a non-empty array of names");
    fields.emplace_back(json::view(e));
  }
  auto model = anomaly::make_detector(detector->value_or("pewma"), parameters->value_or(""));
  if (!model) return p->bad("detector", model.describe());
  anomaly::keyed_store store{std::move(*model)};
  store.max_series(static_cast<std::size_t>(*max_series));
  return std::unique_ptr<action>(new anomaly_action(s, std::move(store), *key, std::move(fields),
                                                    *topic, static_cast<std::uint8_t>(*qos),
                                                    *only));
}

}  // namespace

void register_anomaly(std::map<std::string, action_factory, std::less<>>& f, const services& s) {
  const services* sp = &s;
  f["anomaly"] = [sp](std::string_view t) { return make_anomaly(*sp, t); };
}

}  // namespace iotblocks::rules::detail
