// `iotblocks gateway run [--config gw.json] [--demo] [--log-level L]`: runs the reference
// gateway until SIGINT or SIGTERM and prints where it listens (`--demo` adds
// the scenario rules and simulated devices, see gateway_demo.hpp). Without a
// config, the embedded default (127.0.0.1: 1883 MQTT, 8083 WebSocket, 8080
// HTTP, data in ./iotblocks-data). `gateway check-config` validates a file.
#include "command.hpp"
#include "gateway_demo.hpp"

#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <string>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

struct run_options {
  std::string config;
  std::string data_dir;
  std::string log_level;
  bool demo = false;
};

gateway::config read_config(const std::string& path) {
  if (path.empty()) return gateway::default_config();
  auto c = gateway::load_config(path);
  if (!c) throw error(bad_input, c.describe());
  return std::move(*c);
}

void run(const run_options& o) {
  auto cfg = read_config(o.config);
  if (!o.data_dir.empty()) cfg.data_dir = o.data_dir;
  if (!o.log_level.empty()) {
    static constexpr std::pair<std::string_view, gateway::log_level> levels[] = {
        {"debug", gateway::log_level::debug},
        {"info", gateway::log_level::info},
        {"warn", gateway::log_level::warn},
        {"error", gateway::log_level::error},
        {"off", gateway::log_level::off}};
    bool known = false;
    for (const auto& [name, level] : levels) {
      if (name == o.log_level) cfg.log.level = level, known = true;
    }
    if (!known) throw error(usage, "--log-level: debug, info, warn, error or off");
  }
  if (o.demo) demo::add_rules(cfg);
  // Block the signals before any thread starts, then wait for one.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  gateway::gateway gw{cfg};
  if (auto ok = gw.start(); !ok) throw error(failed, ok.describe());
  for (const auto& e : gw.endpoints()) {
    const char* scheme = e.type == "mqtt"    ? "mqtt"
                         : e.type == "mqtts" ? "mqtts"
                         : e.type == "ws"    ? "ws"
                         : e.type == "wss"   ? "wss"
                                             : "http";
    print_line(fmt::format("{:<6} {}://{}:{}", e.type, scheme, e.address, e.port));
  }
  print_line("data   " + cfg.data_dir);
  std::unique_ptr<demo::devices> devices;
  if (o.demo) {
    devices = std::make_unique<demo::devices>(gw);
    for (const auto& line : demo::hints(gw, cfg)) print_line(line);
  }
  std::fflush(stdout);  // scripts read the ports while the gateway runs
  int sig = 0;
  sigwait(&set, &sig);
  print_line(fmt::format("stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM"));
  devices.reset();
  gw.stop();
}

void setup(CLI::App& root) {
  auto* cmd =
      root.add_subcommand("gateway", "The reference gateway (MQTT broker, HTTP, rules, shadows)");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<run_options>();
  auto* r = cmd->add_subcommand("run", "Run the gateway until SIGINT/SIGTERM");
  r->add_option("--config", opts->config, "Configuration file (JSON); none: the embedded default");
  r->add_option("--data-dir", opts->data_dir, "Override the data directory");
  r->add_option("--log-level", opts->log_level,
                "Operator log level on standard error (debug, info, warn, error, off); "
                "overrides the config's log.level");
  r->add_flag("--demo", opts->demo,
              "Add the demo rules and simulated devices (greenhouse, doorbell, Sigfox, wind)");
  r->callback([opts] { run(*opts); });
  auto path = std::make_shared<std::string>();
  auto* chk = cmd->add_subcommand("check-config", "Validate a configuration file");
  chk->add_option("config", *path, "Configuration file")->required();
  chk->callback([path] {
    (void)read_config(*path);
    print_line("ok");
  });
}

const registrar reg{110, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
