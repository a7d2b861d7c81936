// Private: per-access-key request rate limits of the AWS-shaped API
// ("rate_limit" of aws_access_keys, docs/aws-api.md). A token bucket per key:
// `requests_per_second` tokens come back each second up to `burst`; a request
// that finds the bucket empty is answered ThrottlingException. Keys without a
// limit are never throttled. Sans-I/O: the caller gives the time.
//
//   request_throttle t;
//   t.limit("AKIA…", 10, 20);
//   if (!t.admit("AKIA…", std::chrono::steady_clock::now())) reply(throttled);
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace iotblocks::gateway::aws {

/// Distinct objects: safe. Shared objects: safe for admit() once limits are set.
class request_throttle {
 public:
  using clock = std::chrono::steady_clock;
  /// Limits `key` to `per_second` requests/s on average, with bursts of up to `burst`
  /// requests (both > 0; the bucket starts full).
  void limit(std::string key, double per_second, double burst);
  /// Takes one token from `key`'s bucket at `now`; false when there is none.
  bool admit(std::string_view key, clock::time_point now);

 private:
  struct bucket {
    double per_second = 0;
    double burst = 0;
    double tokens = 0;
    clock::time_point last{};
    bool started = false;
  };
  std::mutex mu_;
  std::map<std::string, bucket, std::less<>> buckets_;
};

}  // namespace iotblocks::gateway::aws
