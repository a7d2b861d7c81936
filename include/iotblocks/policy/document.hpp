// Policy documents: the JSON that AWS IoT and IAM use, compiled once into a
// form the evaluator runs without allocating. Parsing checks the whole
// grammar and reports the first fault with its line and column; things that
// are legal but probably wrong (an unknown action name, a variable no request
// can resolve) become warnings.
//
//   auto doc = policy::parse_document(text);      // result<document>
//   if (!doc) { std::cerr << doc.describe(); return; }   // "Effect must be ... at 4:17"
//   for (const auto& w : doc->warnings()) std::cerr << w.message << '\n';
//   doc->statement(0).sid;                         // for logs
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/policy/error.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

namespace detail {
struct compiled_document;
}

/// What the document is for. An identity policy (an AWS IoT policy attached to a
/// certificate) must not name a Principal; a resource policy (on a rule
/// destination) must.
enum class document_kind : std::uint8_t { identity, resource };

enum class effect : std::uint8_t { allow, deny };

/// Limits applied while parsing. The identity defaults are AWS IoT's.
struct parse_options {
  document_kind kind = document_kind::identity;
  /// Characters outside whitespace, as AWS counts them (IoT policies: 2048;
  /// use 20480 for resource policies, as Lambda does).
  std::size_t max_size = 2048;
  std::size_t max_statements = 100;
  std::size_t max_values_per_element = 100;  ///< Action, Resource, condition value lists
  unsigned max_depth = 8;                    ///< JSON nesting
};

/// Something legal that is probably not what the author meant.
struct warning {
  std::string message;
  position where;
};

/// Identity of one statement, for logs and decisions.
struct statement_info {
  std::size_t index = 0;  ///< position in the Statement list, from 0
  std::string_view sid;   ///< empty when the statement has no Sid
  policy::effect effect = effect::deny;
  position where;  ///< where the statement's object starts
};

/// A compiled, immutable policy document. Copies share the compiled form.
/// Distinct objects: safe. Shared objects: safe (immutable).
class document {
 public:
  document() = default;

  document_kind kind() const noexcept;
  /// "2012-10-17" or "2008-10-17" (variables are literal text in the latter).
  std::string_view version() const noexcept;
  std::size_t statement_count() const noexcept;
  statement_info statement(std::size_t i) const noexcept;
  const std::vector<warning>& warnings() const noexcept;
  /// The canonical JSON of the document: elements in IAM order, lists always as arrays.
  std::string to_json(bool pretty = false) const;

  const detail::compiled_document* compiled() const noexcept { return impl_.get(); }
  explicit operator bool() const noexcept { return impl_ != nullptr; }

 private:
  friend result<document> parse_document(std::string_view, const parse_options&);
  std::shared_ptr<const detail::compiled_document> impl_;
};

/// Parses and compiles a policy document. Errors: core::error::invalid_json /
/// json_too_deep for malformed JSON, the policy::error codes for a malformed
/// policy; each with the position of the offending value.
result<document> parse_document(std::string_view json, const parse_options& options = {});

}  // namespace iotblocks::policy

IOTBLOCKS_API_END
