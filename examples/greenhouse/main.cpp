// greenhouse: a lux probe under a sun shade. The probe publishes one reading a
// minute over mutual TLS with its own certificate, under a policy that lets it
// publish on `Greenhouse/<its client id>` only. Two rules turn readings into the
// metric ShadePosition (1 above 35,000 lux, 0 below); two alarms over 15
// one-minute periods decide when the shade moves, so it moves at most every 15
// minutes; each alarm notifies a topic whose subscriptions send the infrared
// command to the shade's Ethernet-to-IR blaster over TCP and POST a notification
// to a webhook. A third rule stores every reading (dynamoDB action -> SQLite).
//
//   greenhouse DATA_DIR LUX_FILE BLASTER_PORT WEBHOOK_URL [MINUTE_MS]
//
// The simulated clock starts at 2026-06-01 06:00 UTC and moves one minute per
// reading (every MINUTE_MS of real time, default 50). DATA_DIR receives the
// certificates (ca.pem, server.*, probe.*), registry.db, policies.db and
// telemetry.db. After the last reading the program prints "done", keeps the
// TLS listener open for more clients, and exits when stdin closes.
//
// The gateway's JSON config has no alarms, notify subscriptions or injectable
// clock yet, so this program composes the blocks itself: broker + TLS listener,
// certificate registry (who is this device?), policy store (what may it do?),
// rules engine on a manual clock.
#include "probe.hpp"
#include "trust.hpp"

#include <iotblocks/broker/broker.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/net_rules/transports.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/rules/metrics.hpp>
#include <iotblocks/rules/notify.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

using namespace iotblocks;
using namespace std::chrono_literals;

namespace {

constexpr const char* thing_name = "greenhouse_lux_probe_1";

// The rules: readings -> metric, readings -> table.
constexpr const char* too_bright = R"({
  "sql": "SELECT lux FROM 'Greenhouse/+' WHERE lux > 35000",
  "actions": [{"cloudwatchMetric": {"metricNamespace": "Greenhouse Lux Sensors",
               "metricName": "ShadePosition", "metricValue": "1", "metricUnit": "Count"}}]})";
constexpr const char* not_too_bright = R"({
  "sql": "SELECT lux FROM 'Greenhouse/+' WHERE lux < 35000",
  "actions": [{"cloudwatchMetric": {"metricNamespace": "Greenhouse Lux Sensors",
               "metricName": "ShadePosition", "metricValue": "0", "metricUnit": "Count"}}]})";
constexpr const char* telemetry = R"({
  "sql": "SELECT * FROM 'Greenhouse/+'",
  "actions": [{"dynamoDB": {"tableName": "Greenhouse_Lux_Sensor",
               "hashKeyField": "item", "hashKeyValue": "${topic(2)}",
               "rangeKeyField": "timestamp", "rangeKeyValue": "${timestamp()}"}}]})";

// The alarms: 15 one-minute periods in a row on the same side of the threshold.
// Close: the smallest reading of each minute was bright; open: the largest was dark.
constexpr const char* close_alarm = R"({
  "AlarmName": "Shade_Close", "Namespace": "Greenhouse Lux Sensors",
  "MetricName": "ShadePosition", "Statistic": "Minimum", "Period": 60,
  "EvaluationPeriods": 15, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
  "Threshold": 1, "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:Sunshade_Close"]})";
constexpr const char* open_alarm = R"({
  "AlarmName": "Shade_Open", "Namespace": "Greenhouse Lux Sensors",
  "MetricName": "ShadePosition", "Statistic": "Maximum", "Period": 60,
  "EvaluationPeriods": 15, "ComparisonOperator": "LessThanOrEqualToThreshold",
  "Threshold": 0, "AlarmActions": ["arn:aws:sns:us-east-1:000000000000:Sunshade_Open"]})";

// Infrared codes as the blaster learnt them (its "sendir" command format).
constexpr const char* ir_close = "sendir,1:1,16,37993,1,1,246,160,60,20,20\r";
constexpr const char* ir_open = "sendir,1:1,15,37993,1,1,246,160,20,20,60\r";

int fail(const std::string& what) {
  std::fprintf(stderr, "greenhouse: %s\n", what.c_str());
  return 1;
}

std::vector<double> read_lux(const std::string& path) {
  std::vector<double> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] != '#') out.push_back(std::stod(line));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5 || argc > 6) {
    return fail("usage: greenhouse DATA_DIR LUX_FILE BLASTER_PORT WEBHOOK_URL [MINUTE_MS]");
  }
  const std::filesystem::path dir = argv[1];
  const auto lux = read_lux(argv[2]);
  const auto blaster_port = static_cast<std::uint16_t>(std::stoi(argv[3]));
  const std::string webhook = argv[4];
  const auto minute = std::chrono::milliseconds(argc == 6 ? std::stoi(argv[5]) : 50);
  if (lux.empty()) return fail(std::string("no readings in ") + argv[2]);

  // 1. Trust: a device CA, the server's and the probe's certificates, the
  //    probe registered as a thing with the greenhouse policy attached.
  auto t = example::trust::make(dir, thing_name);
  if (!t) return fail(t.describe());
  auto& trust = *t;

  // 2. Rules on a simulated clock; alarms evaluated only when we tick.
  manual_clock clock{from_unix_ms(1'780'293'600'000)};  // 2026-06-01T06:00:00Z
  const auto start = clock.now();
  rules::engine_options eo;
  eo.time = &clock;
  eo.tick_interval = 0ms;
  eo.store_path = (dir / "telemetry.db").string();
  eo.http = std::make_shared<net_rules::http_client_transport>();  // net's clients
  eo.command = std::make_shared<net_rules::tcp_command_transport>();
  rules::engine engine{eo};
  auto& notify = engine.notifier();
  using named = std::pair<const char*, const char*>;
  for (auto [name, code] : {named{"Sunshade_Close", ir_close}, named{"Sunshade_Open", ir_open}}) {
    auto arn = notify.create_topic(name);
    if (!arn) return fail(arn.describe());
    // The blaster gets the IR code, the operators a webhook POST, and we a line here.
    for (auto sink :
         {rules::tcp_command_sink(eo.command, "127.0.0.1", blaster_port, code, "completeir"),
          rules::webhook_sink(eo.http, webhook),
          rules::callback_sink([](const rules::notification& n) {
            example::say("notified " + example::alarm_summary(n.message));
            return result<void>{};
          })}) {
      if (auto s = notify.subscribe(*arn, sink); !s) return fail(s.describe());
    }
  }
  for (auto [name, doc] : {named{"TooBright", too_bright}, named{"NotTooBright", not_too_bright},
                           named{"Lux_telemetry_to_store", telemetry}}) {
    if (auto r = engine.add_rule(name, doc); !r) return fail(r.describe());
  }
  for (auto doc : {close_alarm, open_alarm}) {
    auto a = rules::alarm_definition::from_json(doc);
    if (!a) return fail(a.describe());
    if (auto r = engine.metrics_store().put_alarm(std::move(*a)); !r) return fail(r.describe());
  }

  // 3. The broker behind a mutual-TLS listener; registry and policy decide.
  broker::broker broker;
  example::guard guard{broker, trust};
  broker.on_accepted([&engine](const broker::message& m, const broker::client_info* from) {
    rules::message rm;
    rm.topic = m.topic;
    rm.payload = m.payload;
    rm.qos = m.qos;
    if (from != nullptr) rm.client_id = from->client_id;
    engine.dispatch(rm);
  });
  net::server_options so;
  so.threads = 2;
  net::server server{so};
  net::listener_options tls;
  tls.kind = net::transport::tls;
  tls.port = 0;
  tls.tls.cert_file = (dir / "server.pem").string();
  tls.tls.key_file = (dir / "server.key").string();
  tls.tls.require_client_cert = true;  // chains are checked by the registry (guard)
  auto port = server.listen(tls);
  if (!port) return fail(port.describe());
  server.start(guard.transport());
  example::say("mqtts 127.0.0.1:" + std::to_string(*port));

  // 4. The probe: one reading a minute; first, one publish outside its policy.
  example::probe probe{*port, dir, thing_name};
  if (auto c = probe.connect(); !c) return fail(c.describe());
  const bool refused = !probe.publish("Greenhouse/greenhouse_lux_probe_2", R"({"lux":1})");
  example::say(std::string("probe: publish on Greenhouse/greenhouse_lux_probe_2 ") +
               (refused ? "refused (not in its policy)" : "ACCEPTED"));

  const std::string topic = std::string("Greenhouse/") + thing_name;
  auto next = std::chrono::steady_clock::now();
  for (std::size_t k = 0; k < lux.size(); ++k) {
    clock.set(start + std::chrono::minutes(k) + 30s);  // the reading lands mid-minute
    const auto body = "{\"lux\":" + std::to_string(static_cast<long>(lux[k])) + "}";
    if (!probe.publish(topic, body)) return fail("publish refused at minute " + std::to_string(k));
    engine.flush();
    clock.set(start + std::chrono::minutes(k + 1));  // minute k is complete
    engine.tick();                                   // alarms; their notifications
    engine.flush();
    example::say(example::hh_mm(start + std::chrono::minutes(k)) + " lux " + body);
    next += minute;
    std::this_thread::sleep_until(next);
  }
  probe.disconnect();
  for (const auto& a : engine.metrics_store().alarms()) {
    example::say("alarm " + a.alarm->name + " " + std::string(rules::to_string(a.state)));
  }
  auto rows = engine.items()->count("Greenhouse_Lux_Sensor");
  example::say("done readings " + std::to_string(lux.size()) + " stored " +
               std::to_string(rows ? *rows : 0));

  for (std::string line; std::getline(std::cin, line);) {
  }
  server.stop();
  engine.stop();
  example::say("denied " + std::to_string(guard.denied()));
  return 0;
}
