// anomaly: replays a wind-speed series over MQTT into `anom/detect`, where the
// gateway's rule scores it per station with PEWMA (the `anomaly` action) and
// republishes each point with its bounds on `anom/pred`; the page
// /console/anomaly.html plots them live. This program prints the page's address,
// replays, and prints the points the detector flags.
//
//   iotblocks gateway run --config examples/anomaly/gateway.json      # terminal 1
//   anomaly [--gateway http://127.0.0.1:8080] [--rate 10] [--repeat 1] [SERIES.csv]
//
// The gateway's MQTT port comes from its /console/config.json. Two stations are
// replayed: station-1 plays the series as recorded, station-2 the same series at
// 70% starting halfway through, so each has its own PEWMA state and gusts at
// different moments.
#include <iotblocks/anomaly/series_csv.hpp>
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/net/mqtt_client.hpp>

#include <rapidjson/document.h>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <utility>

using namespace iotblocks;
using namespace std::chrono_literals;

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "anomaly: %s\n", what.c_str());
  return 1;
}

std::string iso_time(std::int64_t ms) {
  const std::time_t s = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Prints a prediction when the detector flagged it; returns true for any prediction.
bool show_prediction(std::string_view payload) {
  rapidjson::Document d;
  d.Parse(payload.data(), payload.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("anomaly")) return false;
  for (const auto& f : d["anomaly"].GetObject()) {
    const auto& r = f.value;
    if (!r.IsObject() || !r.HasMember("anomaly") || !r["anomaly"].IsTrue()) continue;
    auto num = [&](const char* k) { return r.HasMember(k) ? r[k].GetDouble() : 0.0; };
    std::printf("anomaly %s %s %s = %.2f (bounds %.2f .. %.2f, score %.2f)\n",
                d.HasMember("station") ? d["station"].GetString() : "?",
                d.HasMember("time") ? d["time"].GetString() : "", f.name.GetString(), num("value"),
                num("lower"), num("upper"), num("score"));
    std::fflush(stdout);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::string gateway = "http://127.0.0.1:8080";
  std::string file = ANOMALY_DEFAULT_SERIES;  // examples/data/anomaly/wind_speed.csv
  double rate = 10;                           // points per second per station
  int repeat = 1;                             // 0: forever
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--gateway" && has_value)
      gateway = argv[++i];
    else if (a == "--rate" && has_value)
      rate = std::atof(argv[++i]);
    else if (a == "--repeat" && has_value)
      repeat = std::atoi(argv[++i]);
    else if (!a.starts_with("--"))
      file = a;
    else
      return fail("usage: anomaly [--gateway URL] [--rate N] [--repeat N] [SERIES.csv]");
  }
  if (!(rate > 0 && rate <= 10000)) return fail("--rate: expected 0 < N <= 10000");

  // The series: "timestamp,value" lines.
  std::ifstream in(file);
  if (!in) return fail("cannot read " + file);
  std::stringstream text;
  text << in.rdbuf();
  auto series = anomaly::parse_series_csv(text.str());
  if (!series) return fail(file + ": " + series.describe());
  if (series->empty()) return fail(file + ": no points");

  // Where the gateway takes MQTT: its console's config.json lists the listeners.
  net::http_client http;
  http.timeout(5s);
  std::error_code ec;
  net::http_request req;
  req.method = "GET";
  req.url = gateway + "/console/config.json";
  const auto res = http.send(req, ec);
  if (ec || res.status != 200) {
    return fail("GET " + gateway + "/console/config.json: " +
                (ec ? ec.message() : "HTTP " + std::to_string(res.status)));
  }
  rapidjson::Document cfg;
  cfg.Parse(res.body.c_str());
  net::mqtt_client_options o;
  o.port = 0;
  if (!cfg.HasParseError() && cfg.IsObject() && cfg.HasMember("listeners")) {
    for (const auto& l : cfg["listeners"].GetArray()) {
      if (std::string_view(l["type"].GetString()) == "mqtt") {
        o.port = static_cast<std::uint16_t>(l["port"].GetUint());
        const std::string address = l["address"].GetString();
        if (address != "0.0.0.0" && address != "::") o.host = address;
        break;
      }
    }
  }
  if (o.port == 0) return fail("the gateway has no plain MQTT listener");
  std::printf("page %s/console/anomaly.html\n", gateway.c_str());
  std::fflush(stdout);

  // MQTT: one client publishes the points and listens to the predictions.
  boost::asio::io_context io;
  o.client_id = "anomaly-replay";
  net::mqtt_client client{io.get_executor(), o};
  std::atomic<std::size_t> predictions{0};
  client.on_message([&](const mqtt::publish_view& p) {
    const std::string_view payload(reinterpret_cast<const char*>(p.payload.data()),
                                   p.payload.size());
    if (show_prediction(payload)) ++predictions;
  });
  std::promise<std::error_code> ready;
  bool answered = false;  // touched on the client's executor only
  auto answer = [&](std::error_code e) {
    if (!std::exchange(answered, true)) ready.set_value(e);
  };
  client.on_connect([&](std::error_code e, bool) {
    if (e) return answer(e);
    mqtt::subscription s;
    s.filter = "anom/pred";
    client.subscribe({s}, [&](std::error_code se, auto) { answer(se); });
  });
  client.connect();
  std::thread loop([&io] {
    auto guard = boost::asio::make_work_guard(io);
    io.run();
  });
  auto finish = [&](int rc) {
    client.disconnect([&](std::error_code) { io.stop(); });
    loop.join();
    return rc;
  };
  if (auto e = ready.get_future().get()) {
    io.stop();
    loop.join();
    return fail(o.host + ":" + std::to_string(o.port) + ": " + e.message());
  }

  // The replay: one row per tick, both stations, at `rate` rows per second.
  const std::size_t n = series->size();
  std::size_t sent = 0;
  const auto tick = std::chrono::duration<double>(1.0 / rate);
  auto next = std::chrono::steady_clock::now();
  for (int r = 0; repeat == 0 || r < repeat; ++r) {
    for (std::size_t i = 0; i < n; ++i) {
      const auto& p1 = (*series)[i];
      const auto& p2 = (*series)[(i + n / 2) % n];
      char payload[160];
      std::snprintf(payload, sizeof payload,
                    R"({"station":"station-1","wind_speed":%.2f,"time":"%s"})", p1.value,
                    iso_time(p1.time_ms).c_str());
      client.publish("anom/detect", to_buffer(std::string_view(payload)), 1, false);
      std::snprintf(payload, sizeof payload,
                    R"({"station":"station-2","wind_speed":%.2f,"time":"%s"})", 0.7 * p2.value,
                    iso_time(p1.time_ms).c_str());
      client.publish("anom/detect", to_buffer(std::string_view(payload)), 1, false);
      sent += 2;
      next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(tick);
      std::this_thread::sleep_until(next);
    }
  }

  // Every point comes back scored on anom/pred; wait (generously) for the last ones.
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (predictions < sent && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  std::printf("replayed %zu points on anom/detect, %zu predictions on anom/pred\n", sent,
              predictions.load());
  return finish(predictions == sent ? 0 : 1);
}
