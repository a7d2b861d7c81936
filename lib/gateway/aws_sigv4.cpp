// AWS Signature Version 4 verification (sans-I/O): canonical request, string to
// sign, derived key, and the Authorization header check with AWS's error shapes.
// The hot path (verify) allocates nothing after warm-up: the canonical request and
// the string to sign are built in per-thread buffers, SHA-256 and HMAC run on
// per-thread OpenSSL contexts fetched once, and derived keys come from a cache
// looked up by the credential as sent.
#include <iotblocks/gateway/aws_sigv4.hpp>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>
#include <stdexcept>

namespace iotblocks::gateway::aws {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view hex_digits = "0123456789abcdef";

using digest = std::array<unsigned char, 32>;
using hex_digest = std::array<char, 64>;

hex_digest to_hex(const digest& d) noexcept {
  hex_digest out{};
  for (std::size_t i = 0; i < d.size(); ++i) {
    out[2 * i] = hex_digits[d[i] >> 4];
    out[2 * i + 1] = hex_digits[d[i] & 0xF];
  }
  return out;
}

std::string_view as_view(const hex_digest& h) noexcept { return {h.data(), h.size()}; }

std::string_view as_view(const digest& d) noexcept {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

/// SHA-256 and HMAC-SHA256 contexts of one thread, fetched from OpenSSL once (OpenSSL 3's
/// one-shot HMAC() and EVP_Digest() fetch the algorithm on every call).
class crypto_contexts {
 public:
  crypto_contexts()
      : sha256_(EVP_MD_fetch(nullptr, "SHA256", nullptr)),
        md_(EVP_MD_CTX_new()),
        mac_(EVP_MAC_fetch(nullptr, "HMAC", nullptr)),
        mac_ctx_(mac_ == nullptr ? nullptr : EVP_MAC_CTX_new(mac_)) {
    char name[] = "SHA256";
    const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, name, 0),
                                 OSSL_PARAM_END};
    if (sha256_ == nullptr || md_ == nullptr || mac_ctx_ == nullptr ||
        EVP_MAC_CTX_set_params(mac_ctx_, params) != 1) {
      release();
      throw std::runtime_error("OpenSSL: SHA-256/HMAC unavailable");
    }
  }
  ~crypto_contexts() { release(); }
  crypto_contexts(const crypto_contexts&) = delete;
  crypto_contexts& operator=(const crypto_contexts&) = delete;

  digest sha256(std::string_view data) {
    digest out{};
    unsigned int len = 0;
    if (EVP_DigestInit_ex2(md_, sha256_, nullptr) != 1 ||
        EVP_DigestUpdate(md_, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(md_, out.data(), &len) != 1) {
      throw std::runtime_error("OpenSSL: SHA-256 failed");
    }
    return out;
  }

  digest hmac(std::string_view key, std::string_view data) {
    digest out{};
    std::size_t len = 0;
    if (EVP_MAC_init(mac_ctx_, reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                     nullptr) != 1 ||
        EVP_MAC_update(mac_ctx_, reinterpret_cast<const unsigned char*>(data.data()),
                       data.size()) != 1 ||
        EVP_MAC_final(mac_ctx_, out.data(), &len, out.size()) != 1) {
      throw std::runtime_error("OpenSSL: HMAC-SHA256 failed");
    }
    return out;
  }

 private:
  void release() noexcept {
    EVP_MAC_CTX_free(mac_ctx_);
    EVP_MAC_free(mac_);
    EVP_MD_CTX_free(md_);
    EVP_MD_free(sha256_);
    mac_ctx_ = nullptr;
    mac_ = nullptr;
    md_ = nullptr;
    sha256_ = nullptr;
  }

  EVP_MD* sha256_;
  EVP_MD_CTX* md_;
  EVP_MAC* mac_;
  EVP_MAC_CTX* mac_ctx_;
};

crypto_contexts& crypto() {
  thread_local crypto_contexts c;
  return c;
}

/// Per-thread buffers of verify(): their capacity stays, so a warm thread does not allocate.
struct scratch {
  std::string canonical;
  std::string to_sign;
  std::string params;                                   ///< encoded query keys and values
  std::vector<std::array<std::size_t, 4>> param_spans;  ///< key at, key size, value at, size
};

scratch& buffers() {
  thread_local scratch s;
  return s;
}

digest hmac(std::string_view key, std::string_view data) { return crypto().hmac(key, data); }

char lower(char c) noexcept { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi * 16 + lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

/// Appends `c` as SigV4 encodes it (unreserved kept, '/' kept when `keep_slash`).
void append_encoded(std::string& out, unsigned char c, bool keep_slash) {
  if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
      c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
    out += static_cast<char>(c);
  } else {
    out += '%';
    out += "0123456789ABCDEF"[c >> 4];
    out += "0123456789ABCDEF"[c & 0xF];
  }
}

/// Appends `s` percent-decoded (as percent_decode) then encoded (as uri_encode), in one pass.
void append_decoded_encoded(std::string& out, std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '%' && i + 2 < s.size()) {
      const int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        c = static_cast<unsigned char>(hi * 16 + lo);
        i += 2;
      }
    }
    append_encoded(out, c, false);
  }
}

/// Appends the header value trimmed, with runs of spaces collapsed, as SigV4 wants.
void append_canonical_value(std::string& out, std::string_view v) {
  bool space = false, any = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && any) out += ' ';
    space = false;
    any = true;
    out += c;
  }
}

/// Calls `fn` on each `sep`-separated piece of `s` (empty pieces too).
template <class Fn>
void for_each_piece(std::string_view s, char sep, Fn&& fn) {
  while (true) {
    const auto p = s.find(sep);
    fn(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
}

/// The canonical request, appended to `out` (cleared first).
void build_canonical_request(std::string& out, const http_request_view& r,
                             std::string_view signed_headers, std::string_view payload_hash) {
  out.clear();
  out.append(r.method).append("\n");
  // The path as sent, encoded once more (services other than S3 double-encode).
  if (r.raw_path.empty()) {
    out += '/';
  } else {
    for (char c : r.raw_path) append_encoded(out, static_cast<unsigned char>(c), true);
  }
  out += '\n';
  if (!r.raw_query.empty()) {
    auto& s = buffers();
    s.params.clear();
    s.param_spans.clear();
    for_each_piece(r.raw_query, '&', [&](std::string_view pair) {
      if (pair.empty()) return;
      const auto eq = pair.find('=');
      const auto key = pair.substr(0, eq);
      const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      const std::size_t key_at = s.params.size();
      append_decoded_encoded(s.params, key);
      const std::size_t value_at = s.params.size();
      append_decoded_encoded(s.params, value);
      s.param_spans.push_back({key_at, value_at - key_at, value_at, s.params.size() - value_at});
    });
    const std::string_view all = s.params;
    auto key = [&](const std::array<std::size_t, 4>& p) { return all.substr(p[0], p[1]); };
    auto value = [&](const std::array<std::size_t, 4>& p) { return all.substr(p[2], p[3]); };
    std::sort(s.param_spans.begin(), s.param_spans.end(), [&](const auto& a, const auto& b) {
      const int k = key(a).compare(key(b));
      return k != 0 ? k < 0 : value(a) < value(b);
    });
    bool first = true;
    for (const auto& p : s.param_spans) {
      if (!first) out += '&';
      first = false;
      out.append(key(p)).append("=").append(value(p));
    }
  }
  out += '\n';
  for_each_piece(signed_headers, ';', [&](std::string_view name) {
    for (char c : name) out += lower(c);
    out += ':';
    bool first = true;
    for (const auto& h : r.headers) {
      if (!iequals(h.first, name)) continue;
      if (!first) out += ',';
      append_canonical_value(out, h.second);
      first = false;
    }
    out += '\n';
  });
  out.append("\n").append(signed_headers).append("\n").append(payload_hash);
}

/// "AWS4-HMAC-SHA256\n<date>\n<scope>\n<hex sha256 of canonical>", appended to `out` (cleared).
void build_string_to_sign(std::string& out, std::string_view amz_date, std::string_view scope,
                          std::string_view canonical) {
  out.clear();
  out.append(algorithm).append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out.append(as_view(to_hex(crypto().sha256(canonical))));
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos) break;
    s.remove_prefix(p + 1);
  }
  return out;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const std::string* find_header(std::span<const header> headers, std::string_view name) {
  for (const auto& h : headers) {
    if (iequals(h.first, name)) return &h.second;
  }
  return nullptr;
}

sigv4_result refuse(sigv4_result r, sigv4_result::verdict v, std::string message) {
  using enum sigv4_result::verdict;
  r.result = v;
  r.status = v == malformed ? 400 : 403;
  switch (v) {
    case missing: r.error_type = "MissingAuthenticationTokenException"; break;
    case malformed: r.error_type = "IncompleteSignatureException"; break;
    case unknown_key: r.error_type = "UnrecognizedClientException"; break;
    case bad_signature:
    case expired: r.error_type = "InvalidSignatureException"; break;
    case ok: break;
  }
  r.message = std::move(message);
  return r;
}

std::string amz_format(std::int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  std::array<char, 20> buf{};
  const auto n = std::strftime(buf.data(), buf.size(), "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf.data(), n);
}

/// The credential "<key id>/<date>/<region>/<service>/aws4_request" in its five parts.
bool split_credential(std::string_view credential, std::array<std::string_view, 5>& parts) {
  std::size_t n = 0;
  bool fits = true;
  for_each_piece(credential, '/', [&](std::string_view p) {
    if (n < parts.size()) {
      parts[n] = p;
    } else {
      fits = false;
    }
    ++n;
  });
  return fits && n == parts.size() && parts[4] == "aws4_request" && !parts[0].empty() &&
         !parts[1].empty() && !parts[2].empty() && !parts[3].empty();
}

bool same_signature(const hex_digest& want, std::string_view given) noexcept {
  return given.size() == want.size() && CRYPTO_memcmp(want.data(), given.data(), want.size()) == 0;
}

}  // namespace

namespace sigv4 {

std::string uri_encode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) append_encoded(out, static_cast<unsigned char>(ch), keep_slash);
  return out;
}

std::string hex_sha256(std::string_view data) {
  return std::string(as_view(to_hex(crypto().sha256(data))));
}

std::string canonical_request(const http_request_view& r, std::string_view signed_headers,
                              std::string_view payload_hash) {
  std::string out;
  build_canonical_request(out, r, signed_headers, payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out;
  build_string_to_sign(out, amz_date, scope, canonical_request);
  return out;
}

std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service) {
  const std::string k = "AWS4" + std::string(secret);
  const auto k_date = hmac(k, date);
  const auto k_region = hmac(as_view(k_date), region);
  const auto k_service = hmac(as_view(k_region), service);
  return std::string(as_view(hmac(as_view(k_service), "aws4_request")));
}

std::string sign_with(std::string_view key, std::string_view string_to_sign) {
  return std::string(as_view(to_hex(hmac(key, string_to_sign))));
}

std::string signature(std::string_view secret, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign) {
  return sign_with(signing_key(secret, date, region, service), string_to_sign);
}

std::int64_t parse_amz_date(std::string_view s) noexcept {
  if (s.size() != 16 || s[8] != 'T' || s[15] != 'Z') return -1;
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), mo = num(4, 2), d = num(6, 2), h = num(9, 2), mi = num(11, 2),
            se = num(13, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
  // Days from civil (Howard Hinnant's algorithm).
  const int yy = y - (mo <= 2 ? 1 : 0);
  const int era = yy / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const std::int64_t days = static_cast<std::int64_t>(era) * 146097 + doe - 719468;
  return days * 86400 + h * 3600 + mi * 60 + se;
}

}  // namespace sigv4

void sigv4_verifier::add_key(access_key k) {
  {
    std::lock_guard lock(cache_mu_);
    signing_keys_.clear();
  }
  for (auto& existing : keys_) {
    if (existing.id == k.id) {
      existing = std::move(k);
      return;
    }
  }
  keys_.push_back(std::move(k));
}

std::string sigv4_verifier::signing_key(const access_key& k, std::string_view scope) const {
  std::array<std::string_view, 5> parts{};
  const std::string credential = k.id + "/" + std::string(scope);
  if (!split_credential(credential, parts)) return {};
  const auto d = cached_signing_key(k, credential, parts);
  return std::string(as_view(d));
}

std::array<unsigned char, 32> sigv4_verifier::cached_signing_key(
    const access_key& k, std::string_view credential,
    const std::array<std::string_view, 5>& parts) const {
  constexpr std::size_t max_cached = 1024;  // keys x days x regions x services in use
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = signing_keys_.find(credential); it != signing_keys_.end()) return it->second;
  }
  const auto derived = sigv4::signing_key(k.secret, parts[1], parts[2], parts[3]);
  std::array<unsigned char, 32> out{};
  std::copy(derived.begin(), derived.end(), out.begin());
  std::lock_guard lock(cache_mu_);
  if (signing_keys_.size() >= max_cached) signing_keys_.clear();
  signing_keys_.emplace(std::string(credential), out);
  return out;
}

sigv4_result sigv4_verifier::verify(const http_request_view& r, std::int64_t now) const {
  using enum sigv4_result::verdict;
  sigv4_result out;
  const std::string* auth = find_header(r.headers, "authorization");
  if (auth == nullptr || auth->empty()) return refuse(out, missing, "Missing Authentication Token");
  std::string_view a = *auth;
  if (!a.starts_with(algorithm) || a.size() == algorithm.size() || a[algorithm.size()] != ' ') {
    return refuse(out, malformed,
                  "Authorization header requires the AWS4-HMAC-SHA256 algorithm (only SigV4 "
                  "header signing is supported)");
  }
  a.remove_prefix(algorithm.size());
  std::string_view credential, signed_headers, given;
  for_each_piece(a, ',', [&](std::string_view part) {
    part = trim(part);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) return;
    const auto k = part.substr(0, eq);
    const auto v = part.substr(eq + 1);
    if (k == "Credential") credential = v;
    if (k == "SignedHeaders") signed_headers = v;
    if (k == "Signature") given = v;
  });
  for (auto [name, value] :
       {std::pair<std::string_view, std::string_view>{"Credential", credential},
        {"SignedHeaders", signed_headers},
        {"Signature", given}}) {
    if (value.empty()) {
      return refuse(out, malformed,
                    "Authorization header requires '" + std::string(name) +
                        "' parameter. Authorization=" + std::string(*auth));
    }
  }
  std::array<std::string_view, 5> scope_parts{};
  if (!split_credential(credential, scope_parts)) {
    return refuse(
        out, malformed,
        "Credential should be scoped to a valid region, not '" + std::string(credential) + "'.");
  }
  out.access_key_id = std::string(scope_parts[0]);
  out.region = std::string(scope_parts[2]);
  out.service = std::string(scope_parts[3]);
  const std::string* date = find_header(r.headers, "x-amz-date");
  if (date == nullptr) {
    return refuse(out, malformed,
                  "Authorization header requires existence of a 'X-Amz-Date' header.");
  }
  const std::int64_t when = sigv4::parse_amz_date(*date);
  if (when < 0) return refuse(out, malformed, "X-Amz-Date is not YYYYMMDD'T'HHMMSS'Z'");
  if (!date->starts_with(scope_parts[1])) {
    return refuse(out, bad_signature,
                  "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
                  "from HTTP: '" +
                      std::string(scope_parts[1]) + "' != '" + date->substr(0, 8) + "'");
  }
  const std::int64_t skew = max_skew_.count();
  if (when < now - skew || when > now + skew) {
    const bool past = when < now;
    return refuse(out, expired,
                  "Signature expired: " + *date + " is now " + (past ? "earlier" : "later") +
                      " than " + amz_format(past ? now - skew : now + skew) + " (" +
                      amz_format(now) + (past ? " - " : " + ") + std::to_string(skew / 60) +
                      " min.)");
  }
  const access_key* key = nullptr;
  for (const auto& k : keys_) {
    if (k.id == scope_parts[0]) key = &k;
  }
  if (key == nullptr) {
    return refuse(out, unknown_key, "The security token included in the request is invalid.");
  }
  auto& c = crypto();
  const hex_digest body_hash = to_hex(c.sha256(r.body));
  if (const auto* h = find_header(r.headers, "x-amz-content-sha256");
      h != nullptr && *h != as_view(body_hash) && *h != "UNSIGNED-PAYLOAD") {
    return refuse(out, bad_signature,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const std::string_view scope = credential.substr(scope_parts[0].size() + 1);
  auto& s = buffers();
  build_canonical_request(s.canonical, r, signed_headers, as_view(body_hash));
  build_string_to_sign(s.to_sign, *date, scope, s.canonical);
  const auto derived = cached_signing_key(*key, credential, scope_parts);
  const hex_digest want = to_hex(c.hmac(as_view(derived), s.to_sign));
  if (!same_signature(want, given)) {
    return refuse(out, bad_signature,
                  "The request signature we calculated does not match the signature you "
                  "provided. Check your AWS Secret Access Key and signing method. Consult the "
                  "service documentation for details.");
  }
  out.result = ok;
  out.status = 200;
  return out;
}

sigv4_result sigv4_verifier::verify_presigned(const http_request_view& r, std::int64_t now) const {
  using enum sigv4_result::verdict;
  sigv4_result out;
  std::string algorithm_param, credential, amz_date, signed_headers, given, expires;
  bool has_token = false;
  for (auto pair : split(r.raw_query, '&')) {
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
    if (key == "X-Amz-Algorithm") algorithm_param = percent_decode(value);
    if (key == "X-Amz-Credential") credential = percent_decode(value);
    if (key == "X-Amz-Date") amz_date = percent_decode(value);
    if (key == "X-Amz-SignedHeaders") signed_headers = percent_decode(value);
    if (key == "X-Amz-Signature") given = percent_decode(value);
    if (key == "X-Amz-Expires") expires = percent_decode(value);
    if (key == "X-Amz-Security-Token") has_token = true;
  }
  if (algorithm_param.empty() && credential.empty() && given.empty()) {
    return refuse(out, missing, "Missing Authentication Token");
  }
  if (algorithm_param != algorithm) {
    return refuse(out, malformed, "X-Amz-Algorithm must be AWS4-HMAC-SHA256");
  }
  for (auto [name, value] :
       {std::pair<std::string_view, std::string_view>{"X-Amz-Credential", credential},
        {"X-Amz-Date", amz_date},
        {"X-Amz-SignedHeaders", signed_headers},
        {"X-Amz-Signature", given}}) {
    if (value.empty()) {
      return refuse(out, malformed,
                    "Query string requires the '" + std::string(name) + "' parameter");
    }
  }
  const auto scope_parts = split(credential, '/');
  if (scope_parts.size() != 5 || scope_parts[4] != "aws4_request" || scope_parts[0].empty()) {
    return refuse(out, malformed,
                  "Credential should be scoped to a valid region, not '" + credential + "'.");
  }
  out.access_key_id = std::string(scope_parts[0]);
  out.region = std::string(scope_parts[2]);
  out.service = std::string(scope_parts[3]);
  const std::int64_t when = sigv4::parse_amz_date(amz_date);
  if (when < 0) return refuse(out, malformed, "X-Amz-Date is not YYYYMMDD'T'HHMMSS'Z'");
  if (!amz_date.starts_with(scope_parts[1])) {
    return refuse(out, bad_signature, "Date in Credential scope does not match X-Amz-Date");
  }
  const std::int64_t skew = max_skew_.count();
  std::int64_t latest = when + skew;
  if (!expires.empty()) {
    std::int64_t n = 0;
    const auto [end, ec] = std::from_chars(expires.data(), expires.data() + expires.size(), n);
    if (ec != std::errc{} || end != expires.data() + expires.size() || n < 1 || n > 604800) {
      return refuse(out, malformed, "X-Amz-Expires must be an integer in 1..604800");
    }
    latest = when + n;
  }
  if (now < when - skew || now > latest) {
    return refuse(out, expired,
                  "Signature expired: " + amz_date + " is not within the allowed window of " +
                      amz_format(now));
  }
  const access_key* key = nullptr;
  for (const auto& k : keys_) {
    if (k.id == scope_parts[0]) key = &k;
  }
  if (key == nullptr) {
    return refuse(out, unknown_key, "The security token included in the request is invalid.");
  }
  const std::string scope = credential.substr(scope_parts[0].size() + 1);
  const std::string derived = signing_key(*key, scope);
  // The query as signed: without the signature, and with or without the session token.
  auto signed_query = [&](bool with_token) {
    std::string q;
    for (auto pair : split(r.raw_query, '&')) {
      const auto key_name = pair.substr(0, pair.find('='));
      if (pair.empty() || key_name == "X-Amz-Signature") continue;
      if (!with_token && key_name == "X-Amz-Security-Token") continue;
      if (!q.empty()) q += '&';
      q.append(pair);
    }
    return q;
  };
  const std::string empty_hash = sigv4::hex_sha256("");
  for (bool with_token : {false, true}) {
    if (with_token && !has_token) break;
    const std::string query = signed_query(with_token);
    http_request_view view = r;
    view.raw_query = query;
    for (std::string_view payload_hash :
         {std::string_view(empty_hash), std::string_view("UNSIGNED-PAYLOAD")}) {
      const auto canonical = sigv4::canonical_request(view, signed_headers, payload_hash);
      const auto want =
          sigv4::sign_with(derived, sigv4::string_to_sign(amz_date, scope, canonical));
      if (want.size() == given.size() &&
          CRYPTO_memcmp(want.data(), given.data(), want.size()) == 0) {
        out.result = ok;
        out.status = 200;
        return out;
      }
    }
  }
  return refuse(out, bad_signature,
                "The request signature we calculated does not match the signature you provided. "
                "Check your AWS Secret Access Key and signing method. Consult the service "
                "documentation for details.");
}

}  // namespace iotblocks::gateway::aws
