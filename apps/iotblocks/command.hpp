// Shared plumbing of the iotblocks CLI: subcommand registration, input and
// output helpers, and the error type that maps to an exit code.
#pragma once

#include <CLI/CLI.hpp>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::cli {

/// Exit codes of the CLI.
enum exit_code : int {
  ok = 0,
  no_result = 1,  ///< ran fine, produced nothing (e.g. a WHERE that does not match)
  usage = 2,      ///< bad command line
  bad_input = 3,  ///< input could not be read or is invalid
  failed = 4,     ///< the operation itself failed
};

/// An error reported on stderr as "iotblocks: <what>" with `code` as exit status.
class error : public std::runtime_error {
 public:
  error(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
  int code() const noexcept { return code_; }

 private:
  int code_;
};

using setup_fn = void (*)(CLI::App& root);

/// Registers a subcommand at static-initialisation time; `order` sorts --help.
struct registrar {
  registrar(int order, setup_fn setup);
};

/// The registered subcommands, sorted by order.
std::vector<setup_fn> registered_commands();

/// Reads a whole file, or standard input for "-" or an empty path.
std::string read_input(const std::string& path);

/// Writes `text` and a newline to standard output.
void print_line(std::string_view text);

}  // namespace iotblocks::cli
