// Policy evaluation at line rate: a 10-statement policy with variables and
// conditions, evaluated uncached (every statement compiled once, no
// allocation per decision) and through a session's decision cache, plus
// document compilation.
//   build/bench-policy/benchmarks/policy_benchmark --benchmark_filter=Policy
#include <iotblocks/policy.hpp>

#include <benchmark/benchmark.h>

#include <array>
#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace iotblocks;

// Ten statements: client-id and thing-name variables, a thing attribute, a
// certificate attribute, Bool/IpAddress/StringEquals conditions, two Denies.
constexpr std::string_view policy_text = R"({
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "Connect", "Effect": "Allow", "Action": "iot:Connect",
     "Resource": "arn:aws:iot:us-east-1:000000000000:client/${iot:ClientId}",
     "Condition": {"Bool": {"iot:Connection.Thing.IsAttached": "true"}}},
    {"Sid": "PublishOwn", "Effect": "Allow", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:us-east-1:000000000000:topic/Greenhouse/${iot:ClientId}"},
    {"Sid": "ShadowPublish", "Effect": "Allow", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:us-east-1:000000000000:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"},
    {"Sid": "ShadowSubscribe", "Effect": "Allow", "Action": "iot:Subscribe",
     "Resource": "arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"},
    {"Sid": "ShadowReceive", "Effect": "Allow", "Action": "iot:Receive",
     "Resource": "arn:aws:iot:us-east-1:000000000000:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/*"},
    {"Sid": "Commands", "Effect": "Allow", "Action": ["iot:Subscribe", "iot:Receive"],
     "Resource": ["arn:aws:iot:us-east-1:000000000000:topicfilter/Greenhouse/commands/${iot:ClientId}",
                  "arn:aws:iot:us-east-1:000000000000:topic/Greenhouse/commands/${iot:ClientId}"]},
    {"Sid": "ShadowHttp", "Effect": "Allow", "Action": ["iot:GetThingShadow", "iot:UpdateThingShadow"],
     "Resource": "arn:aws:iot:us-east-1:000000000000:thing/${iot:Connection.Thing.ThingName}"},
    {"Sid": "SiteTelemetry", "Effect": "Allow", "Action": "iot:Publish",
     "Resource": "arn:aws:iot:us-east-1:000000000000:topic/telemetry/${iot:Connection.Thing.Attributes[site]}/*",
     "Condition": {"StringEquals": {"iot:Certificate.Subject.Organization": "Example Corp"}}},
    {"Sid": "NoAdmin", "Effect": "Deny", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": "arn:aws:iot:us-east-1:000000000000:topic/admin/*"},
    {"Sid": "PrivateNetworksOnly", "Effect": "Deny", "Action": "iot:Connect", "Resource": "*",
     "Condition": {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}}}
  ]
})";

policy::context make_context() {
  policy::context ctx;
  ctx.client_id = "probe_1";
  ctx.thing_name = "probe_1";
  ctx.thing_is_attached = true;
  ctx.thing_attributes = {{"site", "north"}, {"row", "7"}};
  ctx.subject.add(policy::dn_attribute::common_name, "probe_1");
  ctx.subject.add(policy::dn_attribute::organization, "Example Corp");
  ctx.source_ip = "10.1.2.3";
  ctx.account = "000000000000";
  ctx.region = "us-east-1";
  return ctx;
}

struct workload {
  std::vector<std::string> resources;
  std::vector<policy::request> requests;
};

// A connection's traffic: publishes, deliveries, shadow calls, a denied admin
// publish and an implicitly denied topic; allowed, explicit and implicit denies.
workload make_workload() {
  workload w;
  const std::string arn = "arn:aws:iot:us-east-1:000000000000:";
  const std::pair<policy::action_id, std::string> items[] = {
      {policy::actions::publish, "topic/Greenhouse/probe_1"},
      {policy::actions::publish, "topic/$aws/things/probe_1/shadow/update"},
      {policy::actions::receive, "topic/$aws/things/probe_1/shadow/update/delta"},
      {policy::actions::receive, "topic/Greenhouse/commands/probe_1"},
      {policy::actions::publish, "topic/telemetry/north/lux"},
      {policy::actions::update_thing_shadow, "thing/probe_1"},
      {policy::actions::publish, "topic/admin/reboot"},
      {policy::actions::publish, "topic/Greenhouse/probe_2"},
      {policy::actions::subscribe, "topicfilter/$aws/things/probe_1/shadow/get/accepted"},
      {policy::actions::connect, "client/probe_1"},
  };
  for (const auto& [a, r] : items) w.resources.push_back(arn + r);
  for (std::size_t i = 0; i < std::size(items); ++i) {
    w.requests.emplace_back(items[i].first, w.resources[i]);
  }
  return w;
}

policy::policy_set make_set() {
  policy::policy_set set;
  set.add("greenhouse", 1, policy::parse_document(policy_text).value());
  return set;
}

void BM_PolicyEvaluateUncached(benchmark::State& state) {
  const auto set = make_set();
  const auto ctx = make_context();
  const auto w = make_workload();
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(policy::evaluate(set, w.requests[i], ctx));
    if (++i == w.requests.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetLabel("decisions");
}
BENCHMARK(BM_PolicyEvaluateUncached);

// The worst case: nothing applies, every statement is tried.
void BM_PolicyEvaluateImplicitDeny(benchmark::State& state) {
  const auto set = make_set();
  const auto ctx = make_context();
  const policy::request req{policy::actions::publish,
                            "arn:aws:iot:us-east-1:000000000000:topic/Greenhouse/probe_2"};
  for (auto _ : state) benchmark::DoNotOptimize(policy::evaluate(set, req, ctx));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_PolicyEvaluateImplicitDeny);

void BM_PolicySessionCached(benchmark::State& state) {
  const auto dir = std::filesystem::temp_directory_path() / "iotblocks_policy_bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  auto store = policy::store::open((dir / "p.db").string()).value();
  store.create_policy("greenhouse", policy_text).value();
  store.attach_policy("greenhouse", "cert-1").value();
  policy::session session{store, "cert-1", make_context()};
  const auto w = make_workload();
  for (const auto& r : w.requests) benchmark::DoNotOptimize(session.authorize(r));
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(session.authorize(w.requests[i]));
    if (++i == w.requests.size()) i = 0;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.counters["hit_rate"] =
      static_cast<double>(session.cache().hits()) /
      static_cast<double>(session.cache().hits() + session.cache().misses());
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_PolicySessionCached);

void BM_PolicyCompileDocument(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(policy::parse_document(policy_text));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * policy_text.size()));
}
BENCHMARK(BM_PolicyCompileDocument);

}  // namespace

BENCHMARK_MAIN();
