// Token buckets per access key for the AWS-shaped API (see aws_throttle.hpp).
#include "gateway/aws_throttle.hpp"

#include <algorithm>

namespace iotblocks::gateway::aws {

void request_throttle::limit(std::string key, double per_second, double burst) {
  std::lock_guard lock(mu_);
  buckets_[std::move(key)] = bucket{per_second, burst, burst, {}, false};
}

bool request_throttle::admit(std::string_view key, clock::time_point now) {
  std::lock_guard lock(mu_);
  const auto it = buckets_.find(key);
  if (it == buckets_.end()) return true;
  auto& b = it->second;
  if (b.started && now > b.last) {
    const std::chrono::duration<double> elapsed = now - b.last;
    b.tokens = std::min(b.burst, b.tokens + elapsed.count() * b.per_second);
  }
  if (!b.started || now > b.last) b.last = now;
  b.started = true;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace iotblocks::gateway::aws
