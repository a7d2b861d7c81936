// The text of a failure.
//
// A failure_message is a pointer to text with static storage (a string literal:
// nothing is copied), up to `capacity` bytes copied into the object (text built
// with cat() or given as a view; longer text is cut at a UTF-8 character boundary
// and ends with "..."), or, for a std::string longer than `capacity`, the whole
// text on the heap (the host-only blocks, which built that string already):
//
//   failure_message a = "expected '}'";                        // a pointer, no copy
//   auto b = failure_message::cat("policy '", name, "' exists"); // copied inline
//   auto c = failure_message::cat("topics[", i, "]: ", a);       // integers in decimal
//   failure_message d = fmt::format("{}: {}", path, why);        // whole (host code)
//   std::string_view v = b.view();
//
// It never throws. Literals, cat() and views never allocate: the firmware blocks
// (core, topic, mqtt) build their messages only so, and their failures cross any
// API without allocating. Only a message made from a long std::string owns heap
// memory (shared by its copies, freed with the last; if that allocation fails the
// text is cut as a view's would be). Distinct objects: safe. Shared objects: unsafe.
#pragma once

#include <iotblocks/core/export.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

class failure_message {
 public:
  /// Bytes of text the object holds inline; longer text from a view or cat() is
  /// cut (and ends with "..."), from a std::string held on the heap.
  static constexpr std::size_t capacity = 88;

  /// No text: a failure then shows its error code's message.
  constexpr failure_message() noexcept : static_{nullptr, 0} {}

  constexpr failure_message(const failure_message& other) noexcept : static_{nullptr, 0} {
    copy_from(other);
  }
  constexpr failure_message(failure_message&& other) noexcept : static_{nullptr, 0} {
    take_from(other);
  }
  constexpr failure_message& operator=(const failure_message& other) noexcept {
    if (this != &other) {
      release();
      copy_from(other);
    }
    return *this;
  }
  constexpr failure_message& operator=(failure_message&& other) noexcept {
    if (this != &other) {
      release();
      take_from(other);
    }
    return *this;
  }
  constexpr ~failure_message() { release(); }

  /// A string literal: the pointer is kept, nothing is copied. (A char array
  /// that is not a constant does not compile here: pass a std::string_view.)
  template <std::size_t N>
  consteval failure_message(const char (&literal)[N]) noexcept  // NOLINT: implicit on purpose
      : static_{literal, std::char_traits<char>::length(literal)} {}

  /// A C string known at run time (e.g. std::exception::what()): copied.
  template <class P>
  requires std::same_as<P, const char*> || std::same_as<P, char*> failure_message(P text)
  noexcept  // NOLINT
      : failure_message(std::string_view{text}) {}

  /// Copies `text` (cut to `capacity` bytes). Never allocates.
  failure_message(std::string_view text) noexcept { assign(text); }  // NOLINT

  /// A message built in a std::string (host code): copied whole, on the heap when
  /// longer than `capacity`.
  failure_message(const std::string& text) noexcept { assign_whole(text); }  // NOLINT

  /// Keeps `text` without copying: it must have static storage duration (a
  /// literal, a table of literals, an error category's message).
  static constexpr failure_message static_text(std::string_view text) noexcept {
    failure_message m;
    m.static_ = {text.data(), text.size()};
    return m;
  }

  /// Concatenates `parts` into the object's buffer: each part is text (anything
  /// convertible to std::string_view, a char, another failure_message) or an
  /// integer (written in decimal). Never allocates; cut to `capacity`.
  template <class... Parts>
  static failure_message cat(const Parts&... parts) noexcept {
    failure_message m;
    m.start();
    (m.append_part(parts), ...);
    m.finish();
    return m;
  }

  std::string_view view() const noexcept {
    return kind_ == kind::inline_text ? std::string_view{text_, size_}
                                      : std::string_view{static_.data, static_.size};
  }
  operator std::string_view() const noexcept { return view(); }  // NOLINT
  const char* data() const noexcept { return view().data(); }
  std::size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return size() == 0; }
  /// True when the text was longer than `capacity` and was cut.
  bool truncated() const noexcept { return truncated_; }
  /// True when the object points to static text rather than holding a copy.
  bool is_static() const noexcept { return kind_ == kind::literal; }
  /// True when the text is held on the heap (a std::string longer than `capacity`).
  bool is_allocated() const noexcept { return kind_ == kind::allocated; }

  friend bool operator==(const failure_message& a, std::string_view b) noexcept {
    return a.view() == b;
  }

  /// Writes the text to a std::ostream (the header does not include <ostream>).
  template <class Stream>
  requires requires(Stream& os, std::string_view v) { os << v; }
  friend Stream& operator<<(Stream& os, const failure_message& m) {
    os << m.view();
    return os;
  }

 private:
  struct static_text_ref {
    const char* data;
    std::size_t size;
  };
  enum class kind : std::uint8_t { literal, inline_text, allocated };

  constexpr void copy_from(const failure_message& other) noexcept {
    kind_ = other.kind_;
    truncated_ = other.truncated_;
    size_ = other.size_;
    if (kind_ == kind::inline_text) {
      std::memcpy(text_, other.text_, size_);
    } else {
      static_ = other.static_;
      if (kind_ == kind::allocated) share_allocated();
    }
  }
  constexpr void take_from(failure_message& other) noexcept {
    kind_ = other.kind_;
    truncated_ = other.truncated_;
    size_ = other.size_;
    if (kind_ == kind::inline_text) {
      std::memcpy(text_, other.text_, size_);
    } else {
      static_ = other.static_;
      other.kind_ = kind::literal;  // the heap text, if any, is ours now
      other.static_ = {nullptr, 0};
    }
  }
  constexpr void release() noexcept {
    if (kind_ == kind::allocated) free_allocated();
  }

  void assign(std::string_view text) noexcept;
  void assign_whole(std::string_view text) noexcept;
  void share_allocated() noexcept;  // one more owner of the heap text
  void free_allocated() noexcept;   // one owner less; the last frees it
  void start() noexcept;
  void append(std::string_view text) noexcept;
  void append_signed(long long v) noexcept;
  void append_unsigned(unsigned long long v) noexcept;
  void finish() noexcept;

  template <class Part>
  void append_part(const Part& p) noexcept {
    if constexpr (std::is_same_v<Part, failure_message>) {
      append(p.view());
    } else if constexpr (std::is_same_v<Part, char>) {
      append(std::string_view{&p, 1});
    } else if constexpr (std::is_same_v<Part, bool>) {
      append(p ? std::string_view{"true"} : std::string_view{"false"});
    } else if constexpr (std::signed_integral<Part>) {
      append_signed(p);
    } else if constexpr (std::unsigned_integral<Part>) {
      append_unsigned(p);
    } else if constexpr (std::is_enum_v<Part>) {
      append_signed(static_cast<long long>(p));
    } else {
      append(std::string_view{p});
    }
  }

  union {
    static_text_ref static_;
    char text_[capacity];
  };
  std::uint8_t size_ = 0;  ///< bytes of text_ used (inline text only)
  kind kind_ = kind::literal;
  bool truncated_ = false;
};

static_assert(sizeof(failure_message) <= 96);

}  // namespace iotblocks

IOTBLOCKS_API_END
