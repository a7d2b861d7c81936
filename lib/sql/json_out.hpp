// Private: compact JSON writing of evaluator values.
#pragma once

#include "sql/eval_state.hpp"
#include "sql/val.hpp"

#include <string>
#include <string_view>

namespace iotblocks::sql::detail {

/// Appends `s` as a quoted JSON string.
void write_string(std::string& out, std::string_view s);

/// Appends `v` as compact JSON; Undefined members and elements are left out and an
/// Undefined `v` writes nothing. False when `v` holds a binary payload or nests too deeply.
bool write_json(eval_state& st, std::string& out, const val& v, std::size_t depth = 0);

}  // namespace iotblocks::sql::detail
