// A whole file as a string, for tests that read their data files.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace iotblocks::testing {

/// The bytes of `path`; empty if it cannot be read.
inline std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace iotblocks::testing
