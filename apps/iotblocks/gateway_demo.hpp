// The demo of `iotblocks gateway run --demo`: rules for the user scenarios and
// simulated devices publishing through the running gateway's broker.
#pragma once

#include <iotblocks/gateway/gateway.hpp>

#include <condition_variable>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace iotblocks::cli::demo {

/// Adds the demo rules (greenhouse shade, doorbell, Sigfox store, wind anomalies)
/// and, when none is set, a random admin token for the console.
void add_rules(gateway::config& c);

/// The simulated devices; they publish from their own thread until destroyed.
class devices {
 public:
  explicit devices(gateway::gateway& gw);
  ~devices();
  devices(const devices&) = delete;
  devices& operator=(const devices&) = delete;

 private:
  void run(std::stop_token stop);

  gateway::gateway& gw_;
  std::mutex mutex_;
  std::condition_variable_any cv_;
  std::jthread thread_;
};

/// What to open and run: console URL and token, mosquitto_sub lines, the SQLite query.
std::vector<std::string> hints(const gateway::gateway& gw, const gateway::config& c);

}  // namespace iotblocks::cli::demo
