#include <iotblocks/core/result.hpp>

#include <fmt/format.h>

#include <system_error>

namespace iotblocks {

position position_in(std::string_view text, std::size_t offset) noexcept {
  position p{offset, 1, 1};
  const std::size_t end = offset < text.size() ? offset : text.size();
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else {
      ++p.column;
    }
  }
  return p;
}

std::string failure::describe() const {
  std::string what = message.empty() ? code.message() : message;
  if (!where.known()) return what;
  if (where.line == 0) return fmt::format("{} at byte {}", what, where.offset);
  return fmt::format("{} at {}:{}", what, where.line, where.column);
}

void throw_failure(const failure& f) { throw std::system_error(f.code, f.describe()); }

}  // namespace iotblocks
