// `iotblocks info`: the version and the components this build contains.
#include "command.hpp"

#include <iotblocks/core/version.hpp>

#include <fmt/format.h>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

void setup(CLI::App& root) {
  auto* cmd =
      root.add_subcommand("info", "Print the version and the components of this build as JSON");
  cmd->callback([] {
    std::string components;
    for (const char* c : {IOTBLOCKS_CLI_COMPONENTS}) {
      components += fmt::format("{}\"{}\"", components.empty() ? "" : ",", c);
    }
    print_line(fmt::format(R"({{"name":"iotblocks","version":"{}","components":[{}]}})",
                           version_string, components));
  });
}

const registrar reg{0, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
