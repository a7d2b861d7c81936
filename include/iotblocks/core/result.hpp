// A value or an error: the return type of every pure function in iotblocks.
//
// A failure carries an error code, a message for humans and, where the input
// was text or bytes, the position of the fault. A literal or cat() message never
// allocates; a long std::string message is kept whole (core/failure_message.hpp):
//
//   iotblocks::result<int> r = parse_port("80x");
//   if (!r) std::cerr << r.describe();   // "trailing characters at 1:3"
//   char buf[128];
//   if (!r) puts(r.fail().describe_to(buf).data());  // the same, no allocation
//   int port = r.value();                  // throws std::system_error on failure
//
// Built without exceptions (-fno-exceptions), value() on a failure calls the
// handler set by set_failure_handler (if any), then std::abort(); check ok()
// or use operator* after checking, as firmware does.
#pragma once

// 1 when this translation unit is compiled with C++ exceptions.
#if defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND)
#define IOTBLOCKS_EXCEPTIONS 1
#else
#define IOTBLOCKS_EXCEPTIONS 0
#endif

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/failure_message.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

/// Where in the input a fault is. Lines and columns count from 1; the column
/// counts bytes. A default-constructed position is unknown.
struct position {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::size_t offset = npos;
  std::uint32_t line = 0;
  std::uint32_t column = 0;

  bool known() const noexcept { return offset != npos; }
  friend bool operator==(const position&, const position&) = default;
};

/// The position of byte `offset` in `text`: line and column from newlines.
position position_in(std::string_view text, std::size_t offset) noexcept;

/// A position that has only a byte offset (binary input).
inline position at_offset(std::size_t offset) noexcept { return position{offset, 0, 0}; }

/// Why an operation failed: code, message and position, 128 bytes; allocating
/// only for a message made from a std::string longer than 88 bytes.
struct failure {
  std::error_code code;
  failure_message message;  ///< empty means the code's message
  position where;

  /// "message at line:column" (or "at byte N", or just the message). Allocates
  /// the string it returns (a host convenience); describe_to does not.
  std::string describe() const;
  /// Writes what describe() returns into `out`, cut to fit, NUL-terminated when
  /// `out` is not empty, and returns a view of the text written. Never allocates:
  /// with an empty message it writes the message of an iotblocks error category,
  /// or "<category> error <value>" for another category.
  std::string_view describe_to(std::span<char> out) const noexcept;
};

/// Called on a failure that cannot be returned when iotblocks is built without
/// exceptions (a failed result's value(), a setter given a value it cannot hold).
/// It may log or reset the device; if it returns, std::abort() follows.
using failure_handler = void (*)(const failure&) noexcept;

/// Installs `h` (nullptr: none) and returns the previous handler. Thread-safe.
failure_handler set_failure_handler(failure_handler h) noexcept;

/// Throws `std::system_error` carrying `f.code` and `f.describe()`; built without
/// exceptions, calls the failure handler, then std::abort().
[[noreturn]] void throw_failure(const failure& f);

/// A value of type T or a failure. Distinct objects: safe. Shared objects: unsafe.
template <class T>
class [[nodiscard]] result {
 public:
  using value_type = T;

  template <class U = T>
  requires std::is_constructible_v<T, U&&> result(U&& v)
      : v_(std::in_place_index<0>, std::forward<U>(v)) {}          // NOLINT
  result(failure f) : v_(std::in_place_index<1>, std::move(f)) {}  // NOLINT
  result(std::error_code ec, failure_message message = {}, position where = {})
      : v_(std::in_place_index<1>, failure{ec, message, where}) {}

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }

  T& value() & {
    check();
    return std::get<0>(v_);
  }
  const T& value() const& {
    check();
    return std::get<0>(v_);
  }
  T&& value() && {
    check();
    return std::get<0>(std::move(v_));
  }
  T& operator*() & noexcept { return *std::get_if<0>(&v_); }
  const T& operator*() const& noexcept { return *std::get_if<0>(&v_); }
  T* operator->() noexcept { return std::get_if<0>(&v_); }
  const T* operator->() const noexcept { return std::get_if<0>(&v_); }

  /// The error code; empty on success.
  std::error_code error() const noexcept { return ok() ? std::error_code{} : fail().code; }
  /// The failure. Precondition: !ok().
  const failure& fail() const noexcept { return *std::get_if<1>(&v_); }
  failure&& take_failure() && noexcept { return std::move(*std::get_if<1>(&v_)); }
  std::string describe() const { return ok() ? std::string{} : fail().describe(); }

 private:
  void check() const {
    if (!ok()) throw_failure(fail());
  }
  std::variant<T, failure> v_;
};

/// Success without a value, or a failure.
template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;

  result() = default;
  result(failure f) : f_(std::move(f)) {}  // NOLINT
  result(std::error_code ec, failure_message message = {}, position where = {})
      : f_{ec, message, where} {}

  bool ok() const noexcept { return !f_.code; }
  explicit operator bool() const noexcept { return ok(); }
  void value() const {
    if (!ok()) throw_failure(f_);
  }
  std::error_code error() const noexcept { return f_.code; }
  const failure& fail() const noexcept { return f_; }
  failure&& take_failure() && noexcept { return std::move(f_); }
  std::string describe() const { return ok() ? std::string{} : f_.describe(); }

 private:
  failure f_;
};

}  // namespace iotblocks

IOTBLOCKS_API_END
