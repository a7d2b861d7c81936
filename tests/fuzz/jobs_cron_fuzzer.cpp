// AWS cron expressions (maintenance windows): the input is the expression. Nothing may crash;
// a refusal is invalid_request with a position inside the input; a parsed expression's next
// match is a whole minute, at or after the time asked, within cron_search_days, names its
// own minute and hour, and is its own next match.
#include <iotblocks/jobs/cron.hpp>
#include <iotblocks/jobs/error.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iotblocks::jobs;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto c = parse_cron(text);
  if (!c) {
    if (c.error() != error::invalid_request || c.fail().where.offset > size) std::abort();
    return 0;
  }
  for (const std::int64_t t : {std::int64_t{1'700'000'000}, std::int64_t{4'102'444'800}}) {
    const auto m = next_match(*c, t);
    if (!m) continue;
    if (*m < t || *m % 60 != 0 || *m - t > (cron_search_days + 1) * 86400) std::abort();
    const auto minute = (*m / 60) % 60, hour = (*m / 3600) % 24;
    if (((c->minutes >> minute) & 1u) == 0 || ((c->hours >> hour) & 1u) == 0) std::abort();
    if (next_match(*c, *m) != m) std::abort();
    const auto after = next_match(*c, *m + 1);
    if (after && *after <= *m) std::abort();
  }
  return 0;
}
