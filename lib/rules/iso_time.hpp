// Private: Unix milliseconds as ISO 8601 UTC text ("2026-11-26T08:00:00.000Z").
#pragma once

#include <cstdint>
#include <string>

namespace iotblocks::rules::detail {

std::string iso8601(std::int64_t unix_ms);

}  // namespace iotblocks::rules::detail
