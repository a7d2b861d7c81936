// Private: the interpreter of a compiled program: evaluates its expression nodes and
// builds SELECT output. sql::evaluator (evaluator.cpp) drives it per message.
#pragma once

#include "sql/eval_state.hpp"

#include <iotblocks/sql/value.hpp>

#include <string>

namespace iotblocks::sql::detail {

/// Prepares `st` for evaluating `p` against `m` (payload read lazily).
void begin(eval_state& st, const program& p, const message& m);
/// Switches to reading the payload as binary (it is not JSON): caches are dropped.
void switch_to_binary(eval_state& st);

val eval(eval_state& st, std::int32_t node);
bool is_true(const val& v) noexcept;

/// Builds the object of a SELECT item list into st.builder; returns its root index.
std::int32_t build_items(eval_state& st, const select_spec& s, const val& star_source);
bool write_built(eval_state& st, std::string& out, std::int32_t root);
/// A flat select (select_spec::flat) written straight to out, item by item.
bool write_flat(eval_state& st, std::string& out, const select_spec& s);

/// Conversions across the API boundary.
value to_public(eval_state& st, const val& v, std::size_t depth = 0);
val from_public(eval_state& st, const value& v, std::size_t depth = 0);

}  // namespace iotblocks::sql::detail
