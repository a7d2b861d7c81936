// Runs an io_context until a condition holds, for tests that drive Asio by hand.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>

namespace iotblocks::testing {

/// Runs `io` in 10 ms slices until `done()` or 30 s; false on the timeout.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    io.restart();
    io.run_for(std::chrono::milliseconds(10));
  }
  return true;
}

}  // namespace iotblocks::testing
