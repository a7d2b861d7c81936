// Shared by the gateway tests that read the operator log: standard error goes
// to a file while a capture lives, and lines are awaited in it.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>

namespace iotblocks::gateway::testing {

/// Standard error into a file while alive (the operator log writes there).
class stderr_capture {
 public:
  explicit stderr_capture(const std::filesystem::path& p) : path_(p) {
    std::fflush(stderr);
    saved_ = ::dup(2);
    const int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(fd, 2);
    ::close(fd);
  }
  ~stderr_capture() {
    std::fflush(stderr);
    ::dup2(saved_, 2);
    ::close(saved_);
  }
  std::string text() const {
    std::fflush(stderr);
    std::ifstream in(path_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }
  /// The first line holding every one of `parts`, waiting up to `timeout` for it.
  std::string line_with(std::initializer_list<std::string_view> parts,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    do {
      std::istringstream all(text());
      for (std::string line; std::getline(all, line);) {
        bool every = true;
        for (auto p : parts) every = every && line.find(p) != std::string::npos;
        if (every) return line;
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(20));  // polls the file the gateway appends to
    } while (std::chrono::steady_clock::now() < deadline);
    return {};
  }

 private:
  std::filesystem::path path_;
  int saved_ = -1;
};

}  // namespace iotblocks::gateway::testing
