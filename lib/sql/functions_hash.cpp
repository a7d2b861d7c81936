// Hashing (OpenSSL EVP; MD2 our own, OpenSSL 3 has none) and base64 encode/decode.
#include "sql/convert.hpp"
#include "sql/functions.hpp"
#include "sql/json_scan.hpp"
#include "sql/md2.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/utf8.hpp>

#include <openssl/evp.h>

#include <memory>

namespace iotblocks::sql::detail {

bool is_json_text(eval_state& st, std::string_view text);  // evaluator.cpp

namespace {

struct md_deleter {
  void operator()(EVP_MD* m) const noexcept { EVP_MD_free(m); }
};

// Fetched once; nullptr when this OpenSSL does not offer the algorithm (then the
// function is Undefined).
const EVP_MD* digest(int which) {
  static const std::unique_ptr<EVP_MD, md_deleter> mds[] = {
      std::unique_ptr<EVP_MD, md_deleter>(EVP_MD_fetch(nullptr, "MD5", nullptr)),
      std::unique_ptr<EVP_MD, md_deleter>(EVP_MD_fetch(nullptr, "SHA1", nullptr)),
      std::unique_ptr<EVP_MD, md_deleter>(EVP_MD_fetch(nullptr, "SHA224", nullptr)),
      std::unique_ptr<EVP_MD, md_deleter>(EVP_MD_fetch(nullptr, "SHA256", nullptr)),
      std::unique_ptr<EVP_MD, md_deleter>(EVP_MD_fetch(nullptr, "SHA384", nullptr)),
      std::unique_ptr<EVP_MD, md_deleter>(EVP_MD_fetch(nullptr, "SHA512", nullptr)),
  };
  return mds[which].get();
}

std::optional<std::string_view> bytes_of(eval_state& st, const val& v) {
  if (v.k == kind::binary) return v.text();
  return to_string(st, v);
}

template <int Which>
val f_hash(eval_state& st, const val* a, std::size_t) {
  const EVP_MD* md = digest(Which);
  if (!md) return val::undef();
  auto s = bytes_of(st, a[0]);
  if (!s) return val::undef();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s->data(), s->size(), out, &len, md, nullptr) != 1) return val::undef();
  const std::string hex = to_hex(bytes_view{reinterpret_cast<const std::byte*>(out), len});
  return val::string(st.copy(hex));
}

val f_md2(eval_state& st, const val* a, std::size_t) {
  auto s = bytes_of(st, a[0]);
  if (!s) return val::undef();
  const auto d = md2_digest(*s);
  const std::string hex =
      to_hex(bytes_view{reinterpret_cast<const std::byte*>(d.data()), d.size()});
  return val::string(st.copy(hex));
}

bool is_base64(const val& v) {
  if (v.k != kind::string) return false;
  const auto t = v.text();
  return t.size() == 6 && (t[0] | 0x20) == 'b' && (t[1] | 0x20) == 'a' && (t[2] | 0x20) == 's' &&
         (t[3] | 0x20) == 'e' && t[4] == '6' && t[5] == '4';
}

val f_encode(eval_state& st, const val* a, std::size_t) {
  if (!is_base64(a[1])) return val::undef();
  std::optional<std::string_view> s;
  // encode(*, ...) encodes the payload bytes exactly as received.
  if (st.msg &&
      (a[0].k == kind::binary || ((a[0].k == kind::object || a[0].k == kind::array) && a[0].raw &&
                                  a[0].p == st.root.p && a[0].n == st.root.n))) {
    s = as_string_view(st.msg->payload);
  } else {
    s = bytes_of(st, a[0]);
  }
  if (!s) return val::undef();
  return val::string(st.copy(to_base64(as_bytes(*s))));
}

val f_decode(eval_state& st, const val* a, std::size_t) {
  if (!is_base64(a[1])) return val::undef();
  auto s = to_string(st, a[0]);
  if (!s) return val::null();
  auto bin = from_base64(*s);
  if (!bin) return val::null();
  const std::string_view text = st.copy(as_string_view(*bin));
  if (is_json_text(st, text)) return json::to_val(text, st.mem);
  if (!is_valid_utf8(text)) return val::null();
  return val::string(text);
}

const builtin table[] = {
    {"decode", 2, 2, false, f_decode},  {"encode", 2, 2, false, f_encode},
    {"md2", 1, 1, false, f_md2},        {"md5", 1, 1, false, f_hash<0>},
    {"sha1", 1, 1, false, f_hash<1>},   {"sha224", 1, 1, false, f_hash<2>},
    {"sha256", 1, 1, false, f_hash<3>}, {"sha384", 1, 1, false, f_hash<4>},
    {"sha512", 1, 1, false, f_hash<5>},
};

}  // namespace

std::span<const builtin> hash_builtins() { return table; }

}  // namespace iotblocks::sql::detail
