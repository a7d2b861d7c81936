// sigfox_to_store: Sigfox-style HTTP callbacks -> topic `sigfox` -> the rule
// `SELECT * FROM 'sigfox'` -> a dynamoDB action keyed by ${device} and
// ${timestamp()} into the gateway's SQLite item store; then a query prints the
// rows of every device in time order.
//
//   sigfox_to_store gateway.json callbacks.jsonl DATA_DIR
//
// The gateway comes from the config as written (only data_dir is overridden);
// each line of callbacks.jsonl is POSTed to /sigfox as a Sigfox backend would.
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/net/http_client.hpp>
#include <iotblocks/rules/item_store.hpp>

#include <rapidjson/document.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <set>
#include <string>
#include <thread>

using namespace iotblocks;
using namespace std::chrono_literals;

namespace {

int fail(const std::string& what) {
  std::fprintf(stderr, "sigfox_to_store: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) return fail("usage: sigfox_to_store gateway.json callbacks.jsonl DATA_DIR");
  auto cfg = gateway::load_config(argv[1]);
  if (!cfg) return fail(cfg.describe());
  cfg->data_dir = argv[3];
  gateway::gateway gw{*cfg};
  if (auto started = gw.start(); !started) return fail(started.describe());

  // The Sigfox backend's side: one POST per callback, as it would send them.
  const std::string url = "http://127.0.0.1:" + std::to_string(gw.port("http")) + "/sigfox";
  net::http_client client;
  client.timeout(5s);
  std::ifstream in(argv[2]);
  std::set<std::string> devices;
  std::size_t posted = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    rapidjson::Document doc;
    if (doc.Parse(line.c_str()).HasParseError() || !doc.IsObject() || !doc.HasMember("device")) {
      return fail("not a callback: " + line);
    }
    devices.insert(doc["device"].GetString());
    std::error_code ec;
    const auto res = client.send(
        {.url = url, .headers = {{"content-type", "application/json"}}, .body = line}, ec);
    if (ec || res.status != 200) {
      return fail("POST " + url + ": " + (ec ? ec.message() : std::to_string(res.status)));
    }
    ++posted;
    std::this_thread::sleep_for(2ms);  // ${timestamp()} is in ms: one row per callback
  }

  // The store action commits on a worker thread; wait (generously) for every row.
  auto store = rules::sqlite_item_store::open(cfg->data_dir + "/rules.db");
  if (!store) return fail(store.describe());
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (true) {
    auto n = (*store)->count("sigfox");
    if (n && *n >= posted) break;
    if (std::chrono::steady_clock::now() > deadline) {
      return fail("only " + std::to_string(n ? *n : 0) + " of " + std::to_string(posted) +
                  " rows stored");
    }
    std::this_thread::sleep_for(10ms);
  }
  gw.stop();

  // The query: rows per device, oldest first (range keys are numeric timestamps).
  for (const auto& device : devices) {
    auto rows = (*store)->query("sigfox", device);
    if (!rows) return fail(rows.describe());
    std::printf("device %s: %zu rows\n", device.c_str(), rows->size());
    for (const auto& row : *rows) std::printf("  %s\n", row.to_json().c_str());
  }
  return 0;
}
