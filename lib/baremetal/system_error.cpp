// iotblocks::baremetal: the library part of <system_error> for a static bare-metal
// link with GCC's libstdc++ (arm-none-eabi, newlib).
//
// Any class derived from std::error_category, and any default-constructed
// std::error_code (it names std::system_category()), makes the linker take
// libstdc++'s system_error.o. On newlib-nano that object's static initializer keeps
// the system and generic categories whole: strerror and its table, std::string and,
// through them, locale objects, about 8.6 KB of flash in a program that never asks
// either category for a message (docs/firmware.md, "Linked").
//
// Linked ahead of libstdc++, this file defines the same symbols weakly:
// error_category's out-of-line members and vtable, and system and generic categories
// whose message is "system error" / "generic error" instead of strerror's text (the
// code's value() still says which; formatting it would cost another 0.6 KB), system
// errors mapping to generic conditions of the same value. When anything else in
// the program needs system_error.o (std::system_error, std::thread, ...), the linker
// takes it and its strong definitions replace every one of these: the program then
// behaves as without this file.
#include <new>
#include <stdexcept>  // std::__cow_string
#include <string>
#include <system_error>

#if !defined(__GLIBCXX__)
#error "iotblocks::baremetal replaces parts of GCC's libstdc++ only"
#endif

// The vtable is emitted here because its key function, the destructor, is defined
// here; it must yield to libstdc++'s as the members do.
asm(".weak _ZTVNSt3_V214error_categoryE");

[[gnu::weak]] std::error_category::~error_category() = default;

#if _GLIBCXX_USE_CXX11_ABI
// The entry libstdc++'s copy-on-write-string ABI calls; only its own exception
// classes of that ABI do, which a program without exceptions never makes.
[[gnu::weak]] std::__cow_string std::error_category::_M_message(int) const { __builtin_trap(); }
#endif

[[gnu::weak]] std::error_condition std::error_category::default_error_condition(
    int value) const noexcept {
  return {value, *this};
}

[[gnu::weak]] bool std::error_category::equivalent(
    int value, const std::error_condition& condition) const noexcept {
  return default_error_condition(value) == condition;
}

[[gnu::weak]] bool std::error_category::equivalent(const std::error_code& code,
                                                   int value) const noexcept {
  return *this == code.category() && code.value() == value;
}

namespace {

class generic_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "generic"; }
  std::string message(int) const override { return "generic error"; }
};

class system_category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "system"; }
  std::string message(int) const override { return "system error"; }
  std::error_condition default_error_condition(int value) const noexcept override {
    return {value, std::generic_category()};
  }
};

// Made on first use and never destroyed, as libstdc++'s are: no exit-time destructor.
template <class Category>
const std::error_category& lasting() noexcept {
  alignas(Category) static unsigned char storage[sizeof(Category)];
  static const Category* const category = ::new (static_cast<void*>(storage)) Category;
  return *category;
}

}  // namespace

[[gnu::weak]] const std::error_category& std::generic_category() noexcept {
  return lasting<generic_category_impl>();
}

[[gnu::weak]] const std::error_category& std::system_category() noexcept {
  return lasting<system_category_impl>();
}
