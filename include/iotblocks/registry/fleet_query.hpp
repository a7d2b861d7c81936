// Fleet indexing queries as AWS IoT's SearchIndex takes them (the developer guide's "Query
// syntax"): field:value terms with `*`/`?` wildcards, quoted phrases, ranges `[a TO b]`,
// `{a TO b}` (mixed brackets too, `*` for an open end), comparisons `field<5`, `field>=5`,
// AND / OR / NOT / `-` with parentheses and field grouping `field:(a OR b)`; the default
// operator is AND; NOT binds tighter than AND, AND tighter than OR. Values compare without
// regard to case; where both sides are numbers they compare as numbers. Sans I/O: a query
// is parsed once and matched against documents the caller builds from its registry.
//
//   auto q = iotblocks::registry::fleet_query::parse("thingTypeName:lamp AND attributes.w<60");
//   iotblocks::registry::thing_document d;
//   d.add("thingTypeName", "lamp");
//   d.add("attributes.w", "40");
//   q->matches(d);   // true
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/registry/error.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// The two indices of AWS IoT fleet indexing; each has its own field names.
enum class fleet_index {
  things,  ///< AWS_Things: thingName, thingId, thingTypeName, thingGroupNames,
           ///< attributes.<a>, shadow.<…>, connectivity.{connected,timestamp,disconnectReason}
  thing_groups  ///< AWS_ThingGroups: thingGroupName, thingGroupId, thingGroupDescription,
                ///< parentGroupNames, attributes.<a>
};

/// Bounds on a query. max_terms and max_leading_wildcard_length are AWS's; max_length and
/// max_depth are the gateway's (AWS documents none).
struct fleet_query_limits {
  std::size_t max_length = 1024;                  ///< characters
  std::size_t max_terms = 12;                     ///< field:value terms (AWS: 12)
  std::size_t max_depth = 16;                     ///< nested parentheses and NOTs
  std::size_t max_leading_wildcard_length = 100;  ///< a query with `*x`/`?x` (AWS: 100)
};

/// The searchable fields of one thing or thing group: field name -> values (several for
/// thingGroupNames or a JSON array). Distinct objects: safe. Shared objects: unsafe.
class thing_document {
 public:
  void add(std::string field, std::string value);
  /// Adds every leaf of a JSON object under `prefix` ("shadow.reported" + {"a":{"b":1}}:
  /// shadow.reported.a.b = "1"); array elements are values of their field, null is skipped.
  /// Errors: invalid_query when `json` is not a JSON object (nothing added).
  result<void> add_json(std::string_view prefix, std::string_view json);
  const std::multimap<std::string, std::string, std::less<>>& fields() const noexcept {
    return fields_;
  }

 private:
  std::multimap<std::string, std::string, std::less<>> fields_;
};

/// A parsed query. Distinct objects: safe. Shared objects: safe (const).
class fleet_query {
 public:
  /// Parses `text`. Errors: invalid_query with the message and the position of the fault
  /// (an unknown field, an unsupported character, a missing `)`, a limit exceeded, …).
  static result<fleet_query> parse(std::string_view text, fleet_index index = fleet_index::things,
                                   const fleet_query_limits& limits = {});
  /// Whether `d` satisfies the query.
  bool matches(const thing_document& d) const;
  /// Whether a term names a field under this prefix ("shadow.", "connectivity."), so the
  /// caller can skip loading data no term reads.
  bool reads(std::string_view field_prefix) const;

  /// One node of the syntax tree (public for the parser and the matcher).
  struct node {
    enum class kind { all, any, negate, term } what = kind::term;
    std::vector<std::size_t> children{};  ///< for all (AND), any (OR), negate (one child)
    std::string field{};                  ///< term: empty searches every field
    enum class test { equal, pattern, range } how = test::equal;
    std::string value{};        ///< equal: the value; pattern: `*`, `?` and `\x` escapes
    std::string low{}, high{};  ///< range bounds
    bool low_open = false, high_open = false;  ///< `*`: no bound
    bool low_inclusive = true, high_inclusive = true;
  };

 private:
  friend class fleet_query_parser;
  std::vector<node> nodes_;
  std::size_t root_ = 0;
};

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
