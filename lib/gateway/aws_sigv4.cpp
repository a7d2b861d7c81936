// AWS Signature Version 4 verification (sans-I/O): canonical request, string to
// sign, derived key, and the Authorization header check with AWS's error shapes.
#include <iotblocks/gateway/aws_sigv4.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <ctime>

namespace iotblocks::gateway::aws {
namespace {

constexpr std::string_view algorithm = "AWS4-HMAC-SHA256";
constexpr std::string_view hex_digits = "0123456789abcdef";

std::string to_hex(const unsigned char* p, std::size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += hex_digits[p[i] >> 4];
    out += hex_digits[p[i] & 0xF];
  }
  return out;
}

using digest = std::array<unsigned char, 32>;

digest hmac(std::string_view key, std::string_view data) {
  digest out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &len);
  return out;
}

std::string_view as_view(const digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

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

/// Trims and collapses runs of spaces, as SigV4 canonical header values want.
std::string canonical_value(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
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

}  // namespace

namespace sigv4 {

std::string uri_encode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += ch;
    } else {
      out += '%';
      out += "0123456789ABCDEF"[c >> 4];
      out += "0123456789ABCDEF"[c & 0xF];
    }
  }
  return out;
}

std::string hex_sha256(std::string_view data) {
  digest d{};
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), d.data(), &len, EVP_sha256(), nullptr);
  return to_hex(d.data(), d.size());
}

std::string canonical_request(const http_request_view& r, std::string_view signed_headers,
                              std::string_view payload_hash) {
  std::string out;
  out.reserve(256 + r.raw_path.size() + r.raw_query.size());
  out.append(r.method).append("\n");
  // The path as sent, encoded once more (services other than S3 double-encode).
  out.append(r.raw_path.empty() ? std::string("/") : uri_encode(r.raw_path, true)).append("\n");
  std::vector<std::pair<std::string, std::string>> params;
  if (!r.raw_query.empty()) {
    for (auto pair : split(r.raw_query, '&')) {
      if (pair.empty()) continue;
      const auto eq = pair.find('=');
      const auto key = pair.substr(0, eq);
      const auto value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      params.emplace_back(uri_encode(percent_decode(key), false),
                          uri_encode(percent_decode(value), false));
    }
  }
  std::sort(params.begin(), params.end());
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i > 0) out += '&';
    out.append(params[i].first).append("=").append(params[i].second);
  }
  out += '\n';
  for (auto name : split(signed_headers, ';')) {
    std::string value;
    bool first = true;
    for (const auto& h : r.headers) {
      if (!iequals(h.first, name)) continue;
      if (!first) value += ',';
      value += canonical_value(h.second);
      first = false;
    }
    for (char c : name) out += lower(c);
    out.append(":").append(value).append("\n");
  }
  out.append("\n").append(signed_headers).append("\n").append(payload_hash);
  return out;
}

std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request) {
  std::string out(algorithm);
  out.append("\n").append(amz_date).append("\n").append(scope).append("\n");
  out += hex_sha256(canonical_request);
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
  const auto sig = hmac(key, string_to_sign);
  return to_hex(sig.data(), sig.size());
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
  constexpr std::size_t max_cached = 1024;  // keys x days x regions x services in use
  std::string id = k.id + "/" + std::string(scope);
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = signing_keys_.find(id); it != signing_keys_.end()) return it->second;
  }
  const auto parts = split(scope, '/');  // date/region/service/aws4_request
  auto derived = sigv4::signing_key(k.secret, parts.at(0), parts.at(1), parts.at(2));
  std::lock_guard lock(cache_mu_);
  if (signing_keys_.size() >= max_cached) signing_keys_.clear();
  signing_keys_.emplace(std::move(id), derived);
  return derived;
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
  for (auto part : split(a, ',')) {
    part = trim(part);
    const auto eq = part.find('=');
    if (eq == std::string_view::npos) continue;
    const auto k = part.substr(0, eq);
    const auto v = part.substr(eq + 1);
    if (k == "Credential") credential = v;
    if (k == "SignedHeaders") signed_headers = v;
    if (k == "Signature") given = v;
  }
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
  const auto scope_parts = split(credential, '/');
  if (scope_parts.size() != 5 || scope_parts[4] != "aws4_request" || scope_parts[0].empty()) {
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
  const std::string body_hash = sigv4::hex_sha256(r.body);
  if (const auto* h = find_header(r.headers, "x-amz-content-sha256");
      h != nullptr && *h != body_hash && *h != "UNSIGNED-PAYLOAD") {
    return refuse(out, bad_signature,
                  "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  const std::string scope(credential.substr(scope_parts[0].size() + 1));
  const auto canonical = sigv4::canonical_request(r, signed_headers, body_hash);
  const auto want =
      sigv4::sign_with(signing_key(*key, scope), sigv4::string_to_sign(*date, scope, canonical));
  if (want.size() != given.size() || CRYPTO_memcmp(want.data(), given.data(), want.size()) != 0) {
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
