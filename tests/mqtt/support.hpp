// Helpers shared by the mqtt tests: vector files, hex, JSON comparison.
#pragma once

#include "core/json.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/mqtt.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>

namespace iotblocks::mqtt::test {

/// Stops the test program on a broken test fixture (a missing or malformed file).
[[noreturn]] inline void fatal(const std::string& what) {
#if IOTBLOCKS_EXCEPTIONS
  throw std::runtime_error(what);
#else
  std::fprintf(stderr, "%s\n", what.c_str());
  std::abort();
#endif
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fatal("cannot open " + path);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline rapidjson::Document load_json(const std::string& path) {
  auto doc = json::parse(read_file(path), {.max_depth = 64});
  if (!doc) fatal(path + ": " + doc.describe());
  return std::move(doc).value();
}

/// Hex with optional spaces.
inline byte_buffer hex(std::string_view s) {
  std::string compact;
  for (char c : s) {
    if (c != ' ') compact.push_back(c);
  }
  return from_hex(compact).value();
}

inline protocol_version version_from(std::string_view s) {
  if (s == "3.1") return protocol_version::v3_1;
  if (s == "3.1.1") return protocol_version::v3_1_1;
  if (s == "5") return protocol_version::v5;
  fatal("bad protocol " + std::string{s});
}

inline role role_from(std::string_view s) { return s == "client" ? role::client : role::server; }

/// Same JSON value (object member order ignored).
inline bool json_equal(std::string_view a, std::string_view b) {
  auto x = json::parse(a);
  auto y = json::parse(b);
  return x && y && *x == *y;
}

}  // namespace iotblocks::mqtt::test
