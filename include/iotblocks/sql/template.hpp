// Substitution templates for rule action parameters: text with ${expression}
// parts, compiled once and rendered per message by sql::evaluator::render.
// `$$` is a literal `$` (as in `$$aws/things/...`); a `$` not followed by `{` or
// `$` is kept as is. Expressions see the message, functions and the rule's SET
// variables, never SELECT aliases (as in AWS).
//
//   auto t = sql::compile_template("${topic()}/republish");
//   evaluator.render(*t, msg);   // "my/iot/topic/republish"
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/sql/rule.hpp>

#include <memory>
#include <string>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::sql {

/// A compiled template. Cheap to copy. Distinct objects: safe. Shared objects: safe.
class substitution_template {
 public:
  std::string_view text() const noexcept;
  /// True when the template has no ${...} part (rendering returns the text unescaped).
  bool is_constant() const noexcept;

  const detail::program& program() const noexcept { return *p_; }

 private:
  friend result<substitution_template> compile_template(std::string_view, const compile_options&,
                                                        const rule*);
  explicit substitution_template(std::shared_ptr<const detail::program> p) noexcept
      : p_(std::move(p)) {}
  std::shared_ptr<const detail::program> p_;
};

/// Compiles `text`. With `variables_from`, the rule's SET variables may be used as @name.
result<substitution_template> compile_template(std::string_view text,
                                               const compile_options& options = {},
                                               const rule* variables_from = nullptr);

}  // namespace iotblocks::sql

IOTBLOCKS_API_END
