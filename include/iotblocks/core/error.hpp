// Error-code plumbing shared by every component.
//
// Each component declares `enum class error` in its own namespace, a category
// named "iotblocks.<component>" and `make_error_code`, and specialises
// `std::is_error_code_enum`, so its errors travel as `std::error_code`:
//
//   std::error_code ec = iotblocks::core::error::invalid_json;
//   ec.category().name();   // "iotblocks.core"
//
// Value 0 is never an error in any category.
#pragma once

#include <iotblocks/core/export.hpp>

#include <new>
#include <string>
#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

namespace detail {

/// A `std::error_category` defined by a name and a message table.
/// Distinct objects: safe. Shared objects: safe (immutable).
class error_category_impl final : public std::error_category {
 public:
  using message_fn = const char* (*)(int) noexcept;

  constexpr error_category_impl(const char* name, message_fn messages) noexcept
      : name_(name), message_(messages) {}

  const char* name() const noexcept override { return name_; }
  std::string message(int ev) const override { return message_(ev); }
  /// The same text as message(), without allocating (static storage).
  const char* text(int ev) const noexcept { return message_(ev); }

 private:
  const char* name_;
  message_fn message_;
};

/// The category of a component whose messages are `Messages`: made on first use
/// and never destroyed, so error codes stay usable in other objects' destructors at
/// exit, and a bare-metal program registers no exit-time destructor for it.
template <error_category_impl::message_fn Messages>
const std::error_category& lasting_category(const char* name) noexcept {
  alignas(error_category_impl) static unsigned char storage[sizeof(error_category_impl)];
  static const error_category_impl* const category =
      ::new (static_cast<void*>(storage)) error_category_impl(name, Messages);
  return *category;
}

/// The message of `ec` without allocating: the static text of an iotblocks error
/// category (every category named "iotblocks.*" is an error_category_impl), or
/// nullptr for another category.
inline const char* static_message(const std::error_code& ec) noexcept {
  const std::string_view name = ec.category().name();
  if (!name.starts_with("iotblocks.")) return nullptr;
  return static_cast<const error_category_impl&>(ec.category()).text(ec.value());
}

}  // namespace detail

namespace core {

/// Errors of the shared plumbing (JSON helpers, files, limits).
enum class error {
  invalid_json = 1,          ///< text is not well-formed JSON
  json_too_deep,             ///< JSON nesting exceeds the configured depth
  invalid_argument,          ///< a value is outside what the function accepts
  limit_exceeded,            ///< an input exceeds a configured limit
  not_found,                 ///< a named entity does not exist
  io_error,                  ///< a file or stream could not be read or written
  invalid_hex,               ///< a hex string has an odd length or a non-hex digit
  invalid_base64,            ///< a base64 string is malformed
  invalid_percent_encoding,  ///< a '%' is not followed by two hex digits
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace core
}  // namespace iotblocks

template <>
struct std::is_error_code_enum<iotblocks::core::error> : std::true_type {};

IOTBLOCKS_API_END
