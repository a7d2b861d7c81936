// `iotblocks gateway run --demo`: the gateway plus simulated devices from the
// user scenarios — a greenhouse lux probe (shade rules), a doorbell, Sigfox
// callbacks stored per device, and two wind stations scored by PEWMA. The
// devices publish through the broker as the gateway itself would.
#include "gateway_demo.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>

namespace iotblocks::cli::demo {
namespace {

constexpr const char* demo_rules[][2] = {
    {"demo_too_bright",
     R"({"sql": "SELECT 1 AS shadePosition, lux, topic(3) AS probe FROM 'topic/Greenhouse/+' WHERE lux > 35000",
         "actions": [{"republish": {"topic": "greenhouse/shade/${topic(3)}"}}]})"},
    {"demo_not_too_bright",
     R"({"sql": "SELECT 0 AS shadePosition, lux, topic(3) AS probe FROM 'topic/Greenhouse/+' WHERE lux < 35000",
         "actions": [{"republish": {"topic": "greenhouse/shade/${topic(3)}"}}]})"},
    {"demo_greenhouse_store",
     R"({"sql": "SELECT * FROM 'topic/Greenhouse/+'",
         "actions": [{"dynamoDB": {"tableName": "Greenhouse_Lux_Sensor", "hashKeyField": "item",
           "hashKeyValue": "${topic(3)}", "rangeKeyField": "timestamp", "rangeKeyValue": "${timestamp()}"}}]})"},
    {"demo_doorbell",
     R"({"sql": "SELECT *, topic(2) AS door FROM 'doorbell/+'",
         "actions": [{"republish": {"topic": "notifications/doorbell/${topic(2)}"}}]})"},
    {"demo_sigfox",
     R"({"sql": "SELECT * FROM 'sigfox'",
         "actions": [{"dynamoDB": {"tableName": "sigfox", "hashKeyField": "deviceid",
           "hashKeyValue": "${device}", "rangeKeyField": "timestamp", "rangeKeyValue": "${timestamp()}"}}]})"},
    {"demo_anomaly",
     R"({"sql": "SELECT * FROM 'anom/detect'",
         "actions": [{"anomaly": {"detector": "pewma", "key": "${station}", "fields": ["wind_speed"],
           "republishTopic": "anom/pred"}}]})"},
};

void publish(gateway::gateway& gw, std::string topic, const std::string& payload) {
  broker::message m;
  m.topic = std::move(topic);
  m.payload = iotblocks::to_buffer(payload);
  gw.mqtt_broker().publish(m);
}

}  // namespace

void add_rules(gateway::config& c) {
  for (const auto& [name, json] : demo_rules) c.rules.push_back({name, json});
  if (c.admin_token.empty()) {
    std::random_device rd;
    c.admin_token = fmt::format("demo-{:08x}{:08x}", rd(), rd());
  }
}

devices::devices(gateway::gateway& gw) : gw_(gw) {
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

devices::~devices() {
  thread_.request_stop();
  cv_.notify_all();
}

// One tick per second; each device publishes on its own period.
void devices::run(std::stop_token stop) {
  std::mt19937 rng{42};
  std::normal_distribution<double> noise{0.0, 1.0};
  double wind[2] = {12.0, 8.0};
  for (long t = 0; !stop.stop_requested(); ++t) {
    // Greenhouse probe, "once a minute" accelerated to every 5 s; daylight as a 2-minute sine.
    if (t % 5 == 0) {
      const double lux =
          30000 + 15000 * std::sin(static_cast<double>(t) / 120.0 * 6.283) + 1500 * noise(rng);
      publish(gw_, "topic/Greenhouse/lux-probe-1", fmt::format(R"({{"lux": {:.0f}}})", lux));
    }
    if (t % 20 == 2) publish(gw_, "doorbell/front", R"({"event": "ring"})");
    if (t % 10 == 1) {
      const int device = static_cast<int>((t / 10) % 2);
      publish(gw_, "sigfox",
              fmt::format(R"({{"device": "{}", "data": "{:04x}", "time": {}, "snr": 18.6, )"
                          R"("station": "0D3D", "avgSnr": 22.1, "lat": 48.0, "lng": 2.0, )"
                          R"("rssi": -118.0, "seqNumber": {}}})",
                          device == 0 ? "1A2B3C" : "4D5E6F", t & 0xffff, 1700000000 + t, t / 10));
    }
    // Two wind stations: a noisy level with a gust now and then.
    for (int s = 0; s < 2; ++s) {
      wind[s] = std::max(0.0, wind[s] + 0.3 * noise(rng) + 0.05 * ((s == 0 ? 12 : 8) - wind[s]));
      const double value = wind[s] + ((t + 17 * s) % 90 == 89 ? 20.0 : 0.0);
      publish(gw_, "anom/detect",
              fmt::format(R"({{"station": "station-{}", "wind_speed": {:.2f}}})", s + 1, value));
    }
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, stop, std::chrono::seconds(1), [] { return false; });
  }
}

std::vector<std::string> hints(const gateway::gateway& gw, const gateway::config& c) {
  std::vector<std::string> out;
  const auto mqtt = gw.port("mqtt");
  if (const auto http = gw.port("http")) {
    out.push_back(fmt::format("demo   console http://127.0.0.1:{}/console/  (admin token {})", http,
                              c.admin_token));
    out.push_back(fmt::format(
        "demo   anomaly http://127.0.0.1:{}/console/anomaly.html  (wind stations, PEWMA bounds)",
        http));
  }
  if (mqtt) {
    for (const char* topic : {"greenhouse/shade/#", "notifications/doorbell/#", "anom/pred"}) {
      out.push_back(fmt::format("demo   mosquitto_sub -h 127.0.0.1 -p {} -v -t '{}'", mqtt, topic));
    }
  }
  out.push_back(
      fmt::format("demo   sqlite3 {}/rules.db \"SELECT hash, range_key, payload FROM rule_items "
                  "WHERE tbl = 'sigfox' ORDER BY hash, range_key\"",
                  c.data_dir));
  return out;
}

}  // namespace iotblocks::cli::demo
