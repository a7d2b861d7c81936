// iotblocks: one subcommand per component; JSON on stdout, errors on stderr.
#include "command.hpp"

#include <iotblocks/core/version.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <system_error>

int main(int argc, char** argv) {
  CLI::App app{
      "iotblocks: IoT building blocks (MQTT, topics, rule SQL, rules, anomaly "
      "detection, X.509 registry, policies, shadows, gateway)",
      "iotblocks"};
  app.set_version_flag("--version", std::string(iotblocks::version_string));
  app.require_subcommand(1);
  for (auto setup : iotblocks::cli::registered_commands()) setup(app);
  try {
    app.parse(argc, argv);
    return iotblocks::cli::ok;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : iotblocks::cli::usage;
  } catch (const iotblocks::cli::error& e) {
    std::fprintf(stderr, "iotblocks: %s\n", e.what());
    return e.code();
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "iotblocks: %s\n", e.what());
    return iotblocks::cli::failed;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "iotblocks: %s\n", e.what());
    return iotblocks::cli::failed;
  }
}
