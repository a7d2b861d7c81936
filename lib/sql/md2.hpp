// Private: the MD2 message digest (RFC 1319) for the SQL function md2(). OpenSSL 3
// has no MD2 (its default provider leaves it out and Debian builds the legacy one
// without it), so the 16-byte digest is computed here.
//
//   detail::md2 h;
//   h.update("ab");
//   h.update("c");
//   auto d = h.finish();        // da853b0d3f88d99b30283a69e6ded6bb
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace iotblocks::sql::detail {

/// Incremental MD2. Distinct objects: safe. Shared objects: unsafe.
class md2 {
 public:
  static constexpr std::size_t digest_size = 16;
  using digest = std::array<std::uint8_t, digest_size>;

  /// Appends bytes to the message.
  void update(std::string_view bytes) noexcept;
  /// Pads, appends the checksum and returns the digest; the object then starts a new message.
  digest finish() noexcept;

 private:
  static constexpr std::size_t block_size = 16;
  void compress(const std::uint8_t* block, bool add_to_checksum) noexcept;

  std::array<std::uint8_t, 48> state_{};
  std::array<std::uint8_t, block_size> checksum_{};
  std::array<std::uint8_t, block_size> pending_{};
  std::size_t pending_size_ = 0;
  std::uint8_t last_checksum_byte_ = 0;
};

/// The MD2 digest of `bytes`.
md2::digest md2_digest(std::string_view bytes) noexcept;

}  // namespace iotblocks::sql::detail
