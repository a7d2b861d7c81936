#include "sql/compiler.hpp"
#include "sql/parser.hpp"
#include "sql/program.hpp"

#include <iotblocks/sql/error.hpp>
#include <iotblocks/sql/template.hpp>

#include <fmt/format.h>

namespace iotblocks::sql {

std::string_view substitution_template::text() const noexcept { return p_->text; }

bool substitution_template::is_constant() const noexcept {
  for (const auto& part : p_->parts) {
    if (part.expr >= 0) return false;
  }
  return true;
}

result<substitution_template> compile_template(std::string_view text,
                                               const compile_options& options,
                                               const rule* variables_from) {
  if (text.size() > options.max_length()) {
    return failure{error::too_long,
                   fmt::format("template is {} bytes, longer than the limit of {}", text.size(),
                               options.max_length()),
                   {}};
  }
  auto prog = std::make_shared<detail::program>();
  prog->text = std::string(text);
  if (variables_from) {
    auto st = detail::parse_statement(variables_from->text(), options.max_depth());
    if (!st) return std::move(st).take_failure();
    detail::compiler vc(*prog, variables_from->text(), options);
    vc.compile_sets(st->sets);
    if (vc.err) return std::move(*vc.err);
  }
  detail::template_part part;
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      part.literal += '$';
      i += 2;
      continue;
    }
    if (c != '$' || i + 1 >= text.size() || text[i + 1] != '{') {
      part.literal += c;
      ++i;
      continue;
    }
    const std::size_t start = i + 2;
    std::size_t consumed = 0;
    auto e = detail::parse_expression_prefix(text.substr(start), options.max_depth(), consumed);
    if (!e) {
      failure f = std::move(e).take_failure();
      if (f.where.known()) f.where = position_in(text, f.where.offset + start);
      return f;
    }
    const std::size_t close = start + consumed;
    if (close >= text.size() || text[close] != '}') {
      return failure{error::invalid_template, "expected '}' to close '${'",
                     position_in(text, std::min(close, text.size()))};
    }
    detail::compiler c2(*prog, text, options);
    c2.offset_base = start;
    part.expr = c2.compile_expr(**e);
    if (c2.err) return std::move(*c2.err);
    prog->parts.push_back(std::move(part));
    part = {};
    i = close + 1;
  }
  if (!part.literal.empty() || prog->parts.empty()) prog->parts.push_back(std::move(part));
  return substitution_template(std::move(prog));
}

}  // namespace iotblocks::sql
