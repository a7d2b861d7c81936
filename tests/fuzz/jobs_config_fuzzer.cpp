// jobs configurations: the first byte picks the parser (rollout, abort, retry), the rest is
// its JSON. Nothing may crash; what parses writes back (to_json) to text that parses to the
// same value (round trip); a parsed rollout never releases more than maximumPerMinute in a
// window nor more than its targets; abort_due and retries_allowed stay in range.
#include <iotblocks/jobs/config.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

using namespace iotblocks::jobs;

void run_rollout(const rollout_config& c) {
  constexpr std::size_t targets = 5000;
  auto p = start_rollout(c, targets, 0);
  std::size_t released = 0;
  for (std::int64_t minute = 0; minute < 20; ++minute) {
    const std::size_t n = release(p, c, released / 2, minute * 60 + 1);
    if (n > static_cast<std::size_t>(c.maximum_per_minute)) std::abort();
    released += n;
    if (released != p.released || released > targets) std::abort();
  }
}

void run_abort(const std::vector<abort_criterion>& criteria) {
  for (std::size_t failed = 0; failed < 5; ++failed) {
    ended_counts counts{};
    count_of(counts, execution_status::failed) = failed;
    count_of(counts, execution_status::succeeded) = 4 - failed % 4;
    if (auto hit = abort_due(criteria, counts); hit && failed == 0) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      auto r = parse_rollout_config(text);
      if (!r) break;
      if (parse_rollout_config(to_json(*r)).value() != *r) std::abort();
      run_rollout(*r);
      break;
    }
    case 1: {
      auto r = parse_abort_config(text);
      if (!r) break;
      if (parse_abort_config(to_json(*r)).value() != *r) std::abort();
      run_abort(*r);
      break;
    }
    default: {
      auto r = parse_retry_config(text);
      if (!r) break;
      if (parse_retry_config(to_json(*r)).value() != *r) std::abort();
      for (auto s : all_execution_statuses) {
        const auto n = retries_allowed(*r, s);
        if (n < 0 || n > 10) std::abort();
      }
      break;
    }
  }
  return 0;
}
