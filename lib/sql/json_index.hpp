// Private: validating a payload and reading the rule's payload paths in one pass
// (simdjson On Demand), instead of a DOM parse for validation followed by lazy scans.
#pragma once

// As libsimdjson and libiotblocks_sql are built (simdjson's CMake package defines
// it): the parsers' layout depends on it, and code outside the library may include this.
#ifndef SIMDJSON_THREADS_ENABLED
#define SIMDJSON_THREADS_ENABLED 1
#endif
#include <simdjson.h>

#include <cstddef>
#include <string_view>

namespace iotblocks::sql::detail {

struct eval_state;

/// Reads every value of `padded` (a copy of `payload` followed by
/// SIMDJSON_PADDING bytes) once with `parser`, and records in `st` the values of
/// the program's payload paths it meets, first occurrence first, as the lazy
/// reader would. True when the payload is JSON. False when On Demand does not
/// decide (any error, nesting near `max_depth`, a scalar root): the DOM
/// validator decides then, so the verdict is always the DOM's.
bool index_payload(simdjson::ondemand::parser& parser, const char* padded, std::size_t capacity,
                   std::string_view payload, std::size_t max_depth, eval_state& st);

}  // namespace iotblocks::sql::detail
