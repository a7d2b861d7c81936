#include <iotblocks/core/error.hpp>
#include <iotblocks/core/result.hpp>

#include <atomic>
#include <charconv>
#include <cstdlib>
#include <cstring>
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

namespace {

// Appends to a caller's buffer, cutting what does not fit (one byte is kept for
// the terminating NUL).
class text_sink {
 public:
  explicit text_sink(std::span<char> out) noexcept : out_(out) {}
  text_sink& operator<<(std::string_view s) noexcept {
    const std::size_t room = out_.empty() ? 0 : out_.size() - 1 - size_;
    const std::size_t n = s.size() < room ? s.size() : room;
    if (n != 0) std::memcpy(out_.data() + size_, s.data(), n);
    size_ += n;
    return *this;
  }
  text_sink& number(long long v) noexcept {
    char digits[24];
    const auto r = std::to_chars(digits, digits + sizeof digits, v);
    return *this << std::string_view{digits, static_cast<std::size_t>(r.ptr - digits)};
  }
  std::string_view done() noexcept {
    if (out_.empty()) return {};
    out_[size_] = '\0';
    return {out_.data(), size_};
  }

 private:
  std::span<char> out_;
  std::size_t size_ = 0;
};

void write_where(text_sink& out, const position& where) noexcept {
  if (!where.known()) return;
  if (where.line == 0) {
    out << " at byte ";
    out.number(static_cast<long long>(where.offset));
  } else {
    out << " at ";
    out.number(where.line) << ":";
    out.number(where.column);
  }
}

}  // namespace

std::string failure::describe() const {
  std::string what = message.empty() ? code.message() : std::string{message.view()};
  char where_text[64];
  text_sink w{where_text};
  write_where(w, where);
  return what.append(w.done());
}

std::string_view failure::describe_to(std::span<char> out) const noexcept {
  text_sink w{out};
  if (!message.empty()) {
    w << message.view();
  } else if (const char* text = detail::static_message(code)) {
    w << text;
  } else {
    w << code.category().name() << " error ";
    w.number(code.value());
  }
  write_where(w, where);
  return w.done();
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
