// MD2 as RFC 1319 section 3 describes it: pad to a multiple of 16 bytes, append a
// 16-byte checksum, run every block through 18 rounds over a 48-byte state.
#include "sql/md2.hpp"

#include <algorithm>

namespace iotblocks::sql::detail {
namespace {

// RFC 1319 section 3.2: a permutation of 0..255 built from the digits of pi.
constexpr std::uint8_t pi_subst[256] = {
    41,  46,  67,  201, 162, 216, 124, 1,   61,  54,  84,  161, 236, 240, 6,   19,  98,  167, 5,
    243, 192, 199, 115, 140, 152, 147, 43,  217, 188, 76,  130, 202, 30,  155, 87,  60,  253, 212,
    224, 22,  103, 66,  111, 24,  138, 23,  229, 18,  190, 78,  196, 214, 218, 158, 222, 73,  160,
    251, 245, 142, 187, 47,  238, 122, 169, 104, 121, 145, 21,  178, 7,   63,  148, 194, 16,  137,
    11,  34,  95,  33,  128, 127, 93,  154, 90,  144, 50,  39,  53,  62,  204, 231, 191, 247, 151,
    3,   255, 25,  48,  179, 72,  165, 181, 209, 215, 94,  146, 42,  172, 86,  170, 198, 79,  184,
    56,  210, 150, 164, 125, 182, 118, 252, 107, 226, 156, 116, 4,   241, 69,  157, 112, 89,  100,
    113, 135, 32,  134, 91,  207, 101, 230, 45,  168, 2,   27,  96,  37,  173, 174, 176, 185, 246,
    28,  70,  97,  105, 52,  64,  126, 15,  85,  71,  163, 35,  221, 81,  175, 58,  195, 92,  249,
    206, 186, 197, 234, 38,  44,  83,  13,  110, 133, 40,  132, 9,   211, 223, 205, 244, 65,  129,
    77,  82,  106, 220, 55,  200, 108, 193, 171, 250, 36,  225, 123, 8,   12,  189, 177, 74,  120,
    136, 149, 139, 227, 99,  232, 109, 233, 203, 213, 254, 59,  0,   29,  57,  242, 239, 183, 14,
    102, 88,  208, 228, 166, 119, 114, 248, 235, 117, 75,  10,  49,  68,  80,  180, 143, 237, 31,
    26,  219, 153, 141, 51,  159, 17,  131, 20,
};

constexpr int rounds = 18;

}  // namespace

void md2::compress(const std::uint8_t* block, bool add_to_checksum) noexcept {
  for (std::size_t j = 0; j < block_size; ++j) {
    state_[block_size + j] = block[j];
    state_[2 * block_size + j] = static_cast<std::uint8_t>(block[j] ^ state_[j]);
  }
  std::uint8_t t = 0;
  for (int round = 0; round < rounds; ++round) {
    for (auto& s : state_) {
      s = static_cast<std::uint8_t>(s ^ pi_subst[t]);
      t = s;
    }
    t = static_cast<std::uint8_t>(t + round);  // modulo 256
  }
  if (!add_to_checksum) return;
  // Section 3.2 as corrected by the RFC's errata: C[j] is XORed with S[c xor L].
  for (std::size_t j = 0; j < block_size; ++j) {
    checksum_[j] = static_cast<std::uint8_t>(
        checksum_[j] ^ pi_subst[static_cast<std::uint8_t>(block[j] ^ last_checksum_byte_)]);
    last_checksum_byte_ = checksum_[j];
  }
}

void md2::update(std::string_view bytes) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  std::size_t n = bytes.size();
  if (pending_size_ > 0) {
    const std::size_t take = std::min(n, block_size - pending_size_);
    std::copy_n(p, take, pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_));
    pending_size_ += take;
    p += take;
    n -= take;
    if (pending_size_ < block_size) return;
    compress(pending_.data(), true);
    pending_size_ = 0;
  }
  for (; n >= block_size; p += block_size, n -= block_size) compress(p, true);
  std::copy_n(p, n, pending_.begin());
  pending_size_ = n;
}

md2::digest md2::finish() noexcept {
  // Section 3.1: i bytes of value i, 1 <= i <= 16, even when the length is a multiple of 16.
  const auto pad = static_cast<std::uint8_t>(block_size - pending_size_);
  std::fill(pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_), pending_.end(), pad);
  compress(pending_.data(), true);
  const auto checksum = checksum_;
  compress(checksum.data(), false);
  digest out{};
  std::copy_n(state_.begin(), digest_size, out.begin());
  *this = md2{};
  return out;
}

md2::digest md2_digest(std::string_view bytes) noexcept {
  md2 h;
  h.update(bytes);
  return h.finish();
}

}  // namespace iotblocks::sql::detail
