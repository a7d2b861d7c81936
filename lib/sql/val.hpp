// Private: the evaluator's value, a trivially copyable view. Its bytes live in
// the payload, in the compiled program (constants) or in the evaluation arena,
// all of which outlive one evaluation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <string_view>
#include <vector>

namespace iotblocks::sql::detail {

enum class kind : std::uint8_t {
  undefined,
  null,
  boolean,
  integer,
  decimal,
  string,
  array,
  object,
  binary,  ///< a non-JSON payload (only * yields it)
};

struct member;

/// Arrays and objects are either `raw` (JSON text, read lazily) or built (items/members).
struct val {
  kind k = kind::undefined;
  bool raw = false;
  union {
    bool b;
    std::int64_t i;
    double d;
    const val* items;
    const member* members;
  } u{};
  const char* p = nullptr;  ///< string bytes, raw JSON text, decimal source text (optional)
  std::size_t n = 0;        ///< byte length, or item/member count when built

  std::string_view text() const noexcept { return {p, n}; }
  bool defined() const noexcept { return k != kind::undefined; }

  static val undef() noexcept { return {}; }
  static val null() noexcept {
    val v;
    v.k = kind::null;
    return v;
  }
  static val boolean(bool b) noexcept {
    val v;
    v.k = kind::boolean;
    v.u.b = b;
    return v;
  }
  static val integer(std::int64_t i) noexcept {
    val v;
    v.k = kind::integer;
    v.u.i = i;
    return v;
  }
  /// A Decimal as given (no normalisation); see convert.hpp number() for SQL rules.
  static val decimal(double d, std::string_view text = {}) noexcept {
    val v;
    v.k = kind::decimal;
    v.u.d = d;
    v.p = text.data();
    v.n = text.size();
    return v;
  }
  static val string(std::string_view s) noexcept {
    val v;
    v.k = kind::string;
    v.p = s.data();
    v.n = s.size();
    return v;
  }
  static val raw_json(kind k, std::string_view json) noexcept {
    val v;
    v.k = k;
    v.raw = true;
    v.p = json.data();
    v.n = json.size();
    return v;
  }
  static val array(const val* items, std::size_t count) noexcept {
    val v;
    v.k = kind::array;
    v.u.items = items;
    v.n = count;
    return v;
  }
  static val object(const member* members, std::size_t count) noexcept {
    val v;
    v.k = kind::object;
    v.u.members = members;
    v.n = count;
    return v;
  }
  static val binary(std::string_view bytes) noexcept {
    val v;
    v.k = kind::binary;
    v.p = bytes.data();
    v.n = bytes.size();
    return v;
  }
};

struct member {
  std::string_view key;
  val v;
};

/// Bump allocator whose blocks are kept across reset(), so that steady-state
/// evaluations allocate nothing. Allocation past `limit` bytes fails (nullptr).
class arena {
 public:
  explicit arena(std::size_t limit = 16u << 20) : limit_(limit) {}

  void set_limit(std::size_t l) noexcept { limit_ = l; }
  void reset() noexcept {
    block_ = 0;
    used_ = 0;
    total_ = 0;
  }
  bool exhausted() const noexcept { return exhausted_; }
  void clear_exhausted() noexcept { exhausted_ = false; }

  void* allocate(std::size_t bytes, std::size_t align = alignof(std::max_align_t)) {
    if (bytes == 0) bytes = 1;
    if (total_ + bytes + align > limit_) {
      exhausted_ = true;
      return nullptr;
    }
    while (true) {
      if (block_ < blocks_.size()) {
        auto& b = blocks_[block_];
        std::size_t at = (used_ + align - 1) & ~(align - 1);
        if (at + bytes <= b.size) {
          used_ = at + bytes;
          total_ += bytes;
          return b.data.get() + at;
        }
        ++block_;
        used_ = 0;
        continue;
      }
      const std::size_t size = bytes + align > block_size ? bytes + align : block_size;
      blocks_.push_back({std::make_unique<char[]>(size), size});
    }
  }

  template <class T>
  T* make_array(std::size_t count) {
    return static_cast<T*>(allocate(sizeof(T) * (count ? count : 1), alignof(T)));
  }

  /// Copies `s` into the arena; empty view when over the limit.
  std::string_view copy(std::string_view s) {
    if (s.empty()) return {"", 0};
    char* d = static_cast<char*>(allocate(s.size(), 1));
    if (!d) return {};
    std::memcpy(d, s.data(), s.size());
    return {d, s.size()};
  }

 private:
  static constexpr std::size_t block_size = 16 * 1024;
  struct block {
    std::unique_ptr<char[]> data;
    std::size_t size;
  };
  std::vector<block> blocks_;
  std::size_t block_ = 0;
  std::size_t used_ = 0;
  std::size_t total_ = 0;
  std::size_t limit_;
  bool exhausted_ = false;
};

}  // namespace iotblocks::sql::detail
