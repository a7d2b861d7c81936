// Compiling AWS IoT rule SQL (version 2016-03-23): text -> syntax tree -> a
// compiled rule that evaluates without re-parsing. A rule is immutable and can
// be evaluated from many threads at once (each with its own sql::evaluator).
//
//   auto r = sql::compile("SELECT * FROM '/topic/Greenhouse/LuxSensors' WHERE lux > 35000");
//   if (!r) std::cerr << r.describe();          // "... at line:column"
//   r->from();                                  // "/topic/Greenhouse/LuxSensors"
//   sql::matches_from(*r, "/topic/Greenhouse/LuxSensors");   // true: FROM applies
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/sql/error.hpp>
#include <iotblocks/sql/functions.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::sql {

namespace detail {
struct program;
}

/// Limits and registrations for compile(). Distinct objects: safe. Shared: unsafe.
class compile_options {
 public:
  /// Longest accepted SQL text in bytes. Default 256 KiB.
  compile_options& max_length(std::size_t n) noexcept {
    max_length_ = n;
    return *this;
  }
  /// Deepest nesting of expressions (parentheses, calls, literals, nested SELECT,
  /// CASE). Bounds the stack used by compilation and evaluation. Default 64.
  compile_options& max_depth(std::size_t n) noexcept {
    max_depth_ = n;
    return *this;
  }
  /// Functions the application provides (copied into each compiled rule). Default none.
  compile_options& functions(const function_registry* r) noexcept {
    functions_ = r;
    return *this;
  }

  std::size_t max_length() const noexcept { return max_length_; }
  std::size_t max_depth() const noexcept { return max_depth_; }
  const function_registry* functions() const noexcept { return functions_; }

 private:
  std::size_t max_length_ = 256 * 1024;
  std::size_t max_depth_ = 64;
  const function_registry* functions_ = nullptr;
};

/// A compiled rule. Cheap to copy (shared, immutable). Distinct objects: safe. Shared: safe.
class rule {
 public:
  /// The SQL text it was compiled from.
  std::string_view text() const noexcept;
  /// The FROM topic filter; empty for a rule without FROM (Basic Ingest only).
  /// See matches_from() to apply it to a topic.
  std::string_view from() const noexcept;
  bool has_where() const noexcept;
  /// SELECT VALUE (the output is that value, not an object).
  bool select_value() const noexcept;
  /// The SET variables in order of assignment (without '@').
  std::vector<std::string> variables() const;
  /// The payload paths the rule reads, dotted ("a.b.c"), in first-use order.
  std::vector<std::string> payload_paths() const;

  const detail::program& program() const noexcept { return *p_; }

 private:
  friend result<rule> compile(std::string_view, const compile_options&);
  explicit rule(std::shared_ptr<const detail::program> p) noexcept : p_(std::move(p)) {}
  std::shared_ptr<const detail::program> p_;
};

/// Applies the FROM clause: true when the rule's FROM topic filter matches `topic` as an
/// MQTT subscription does (topic::matches, the matching the rules engine's topic index
/// does): `+` is one level, `#` the rest including the parent (`a/#` matches `a`), other
/// levels compare exactly and case-sensitively, and a filter starting with a wildcard
/// does not match a topic starting with `$`. False when `topic` is not a valid topic
/// name, for a rule without FROM (only Basic Ingest invokes such a rule, by name) and for
/// a `$share/...` FROM (the rules engine refuses such a rule).
/// The evaluator's calls do not apply FROM; call this first (or route by from()).
bool matches_from(const rule& r, std::string_view topic) noexcept;

/// Compiles one statement: [SET @v = expr, ...] SELECT [VALUE] items [FROM 'filter'] [WHERE cond].
/// Failures carry an error code, a message with a suggestion where one helps, and the
/// line:column of the fault.
result<rule> compile(std::string_view sql, const compile_options& options = {});

}  // namespace iotblocks::sql

IOTBLOCKS_API_END
