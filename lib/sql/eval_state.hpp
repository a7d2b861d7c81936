// Private: eval_state, everything one evaluation needs, kept in the evaluator and reused.
#pragma once

#include "sql/json_scan.hpp"
#include "sql/program.hpp"
#include "sql/val.hpp"

#include <iotblocks/core/result.hpp>
#include <iotblocks/sql/error.hpp>
#include <iotblocks/sql/evaluator.hpp>
#include <iotblocks/sql/message.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::sql::detail {

class validator;  // simdjson, kept out of this header
class regex_cache;

enum class payload_mode : std::uint8_t { lazy, json, binary };

/// One node of an object under construction (SELECT output, nested SELECT rows).
struct bnode {
  std::string_view key;
  val v;
  std::int32_t first = -1;  ///< children (when object)
  std::int32_t last = -1;
  std::int32_t next = -1;
  bool obj = false;
};

// Hidden: evaluator.hpp declares it in the exported API (evaluator's pimpl).
struct IOTBLOCKS_HIDDEN eval_state {
  explicit eval_state(evaluator_options o);
  ~eval_state();

  evaluator_options opts;
  arena mem;
  std::string scratch;  ///< composite-to-string buffer
  std::string out;      ///< output payload
  std::unique_ptr<validator> json_validator;
  std::unique_ptr<regex_cache> regexes;
  std::mt19937_64 rng;

  // Per evaluation.
  const program* prog = nullptr;
  const message* msg = nullptr;
  payload_mode mode = payload_mode::lazy;
  val root;
  std::vector<val> path_vals;
  std::vector<std::uint8_t> path_done;
  std::vector<std::uint8_t> path_seen;  ///< json_index.cpp: the path's first occurrence was met
  /// Root-level paths are read in one resumable pass over the payload object.
  json::object_reader root_reader{std::string_view{}};
  bool root_scan_started = false;
  std::vector<val> var_vals;
  std::vector<std::uint8_t> var_state;  ///< 0 not yet, 1 evaluating, 2 done
  std::vector<val> scope;
  std::vector<val> stack;
  std::vector<bnode> builder;
  std::optional<std::int64_t> now;
  std::optional<failure> error;

  void fail(sql::error code, std::string message) {
    if (!error) error = failure{code, std::move(message), {}};
  }
  /// Arena allocation; records error::memory_limit on exhaustion.
  template <class T>
  T* alloc(std::size_t count) {
    T* p = mem.make_array<T>(count);
    if (!p) fail(sql::error::memory_limit, "evaluation exceeded max_memory");
    return p;
  }
  std::string_view copy(std::string_view s) {
    if (s.empty()) return {"", 0};
    char* p = alloc<char>(s.size());
    if (!p) return {"", 0};
    std::copy(s.begin(), s.end(), p);
    return {p, s.size()};
  }
  std::int64_t timestamp();
  /// Nesting limit for walking values (payload depth + expression depth).
  std::size_t value_depth_limit() const noexcept { return opts.max_payload_depth() + 80; }
};

}  // namespace iotblocks::sql::detail
