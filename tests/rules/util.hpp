// Helpers shared by the rules tests.
#pragma once

#include <iotblocks/rules/engine.hpp>

#include "core/recorder.hpp"
#include "read_file.hpp"

#include <unistd.h>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace iotblocks::rules::testing {

struct published {
  std::string topic;
  std::string payload;
  std::uint8_t qos;
};

/// A publisher that records what the engine republishes.
class recording_publisher final : public publisher {
 public:
  result<void> publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                       bool) override {
    got.add({std::string(topic), std::string(payload), qos});
    return {};
  }
  iotblocks::testing::recorder<published> got;
};

inline message msg(std::string_view topic, std::string_view payload,
                   std::string_view client = "probe_1") {
  message m;
  m.topic = topic;
  m.payload = as_bytes(payload);
  m.client_id = client;
  return m;
}

/// Engine options for tests: millisecond retries, no ticker, unreported failures dropped.
inline engine_options fast_options() {
  using namespace std::chrono_literals;
  engine_options o;
  o.retry.initial_backoff = 1ms;
  o.retry.max_backoff = 5ms;
  o.tick_interval = 0ms;
  o.on_unreported = [](std::string_view) {};
  return o;
}

/// A file of tests/data/rules; empty if it cannot be read.
inline std::string data(const std::string& name) {
  return iotblocks::testing::read_whole_file("tests/data/rules/" + name);
}

/// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir() {
    path_ = std::filesystem::temp_directory_path() /
            ("iotblocks_rules_" + std::to_string(::getpid()) + "_" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static int& counter() {
    static int n = 0;
    return n;
  }
  std::filesystem::path path_;
};

}  // namespace iotblocks::rules::testing
