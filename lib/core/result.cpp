#include <iotblocks/core/result.hpp>

#include <atomic>
#include <cstdlib>
#include <string>
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
  if (where.line == 0) return what + " at byte " + std::to_string(where.offset);
  return what + " at " + std::to_string(where.line) + ":" + std::to_string(where.column);
}

namespace {
std::atomic<failure_handler> handler{nullptr};
}  // namespace

failure_handler set_failure_handler(failure_handler h) noexcept { return handler.exchange(h); }

void throw_failure(const failure& f) {
#if IOTBLOCKS_EXCEPTIONS
  throw std::system_error(f.code, f.describe());
#else
  if (const failure_handler h = handler.load()) h(f);
  std::abort();
#endif
}

}  // namespace iotblocks
