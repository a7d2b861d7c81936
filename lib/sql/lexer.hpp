// Private: tokens of rule SQL.
#pragma once

#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::sql::detail {

enum class tok : unsigned char {
  end,
  word,      ///< identifier or keyword (keywords are recognised by the parser)
  quoted,    ///< `backtick identifier`
  variable,  ///< @name (text without '@')
  string,    ///< 'single' or "double" quoted, text unescaped
  integer,
  decimal,
  lparen,
  rparen,
  lbracket,
  rbracket,
  lbrace,
  rbrace,
  comma,
  dot,
  colon,
  star,
  slash,
  percent,
  plus,
  minus,
  eq,
  ne,
  lt,
  le,
  gt,
  ge,
};

struct token {
  tok kind = tok::end;
  std::size_t offset = 0;  ///< byte offset in the source
  std::size_t length = 0;
  std::string text;  ///< word, variable, number text, unescaped string
  bool single_quoted = false;
};

/// Reads the token at or after `pos` (skipping whitespace) and advances `pos`
/// past it. Does not check UTF-8 (lex and the parser do that once).
std::optional<failure> lex_one(std::string_view src, std::size_t& pos, token& out);

/// Splits `src` into tokens; the last one is tok::end. Fails on unterminated strings,
/// stray characters and malformed numbers, with the offset of the fault.
result<std::vector<token>> lex(std::string_view src);

/// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b) noexcept;

/// Printable description of a token for messages ("'FROM'", "end of input").
std::string describe(const token& t);

}  // namespace iotblocks::sql::detail
