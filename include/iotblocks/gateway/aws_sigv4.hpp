// AWS Signature Version 4 verification, sans-I/O: the gateway's AWS-shaped HTTP
// API (`aws iot …`, `aws iot-data …` with --endpoint-url) authenticates each
// request by recomputing the signature of its `Authorization: AWS4-HMAC-SHA256 …`
// header with the secret of the access key it names. Takes the request as text
// and the time as seconds; returns the verdict and, on refusal, AWS's error type
// and message (403, or 400 for a malformed header).
//
//   gateway::aws::sigv4_verifier v;
//   v.add_key({"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"});
//   auto out = v.verify(request, std::time(nullptr));
//   if (!out.ok()) reply(out.status, out.error_type, out.message);
//   else use(out.access_key_id, out.service);   // "execute-api" (iot) or "iotdata"
#pragma once

#include <iotblocks/core/export.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::gateway::aws {

/// One HTTP header as received (name in any case).
using header = std::pair<std::string, std::string>;

/// A request as the server received it; views into the caller's buffers.
struct http_request_view {
  std::string_view method;     ///< "GET", "POST", ...
  std::string_view raw_path;   ///< the target before '?', as sent (still percent-encoded)
  std::string_view raw_query;  ///< the target after '?', as sent
  std::span<const header> headers;
  std::string_view body;
};

/// An access key the gateway accepts.
struct access_key {
  std::string id;
  std::string secret;
};

/// What verify() decided. On refusal `status`, `error_type` and `message` are AWS's.
struct sigv4_result {
  enum class verdict : std::uint8_t {
    ok,
    missing,        ///< no Authorization header (MissingAuthenticationTokenException)
    malformed,      ///< not a well-formed AWS4-HMAC-SHA256 header (IncompleteSignatureException)
    unknown_key,    ///< no such access key (UnrecognizedClientException)
    bad_signature,  ///< the signature does not match (InvalidSignatureException)
    expired,        ///< X-Amz-Date too far from now (InvalidSignatureException)
  };
  verdict result = verdict::missing;
  int status = 403;
  std::string error_type;
  std::string message;
  std::string access_key_id;  ///< from the credential scope (also on refusal when parsed)
  std::string region;
  std::string service;  ///< the signing name: "execute-api" for iot, "iotdata" for iot-data
  bool ok() const noexcept { return result == verdict::ok; }
};

/// The parts of a SigV4 computation, exposed for tests and diagnostics.
namespace sigv4 {
/// RFC 3986 encoding as SigV4 wants it: unreserved characters kept, '/' kept when
/// `keep_slash`, everything else %XX (upper-case hex).
std::string uri_encode(std::string_view s, bool keep_slash);
/// The canonical request for `signed_headers` (lower-case, ';'-separated) and the body hash.
std::string canonical_request(const http_request_view& r, std::string_view signed_headers,
                              std::string_view payload_hash);
/// "AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>".
std::string string_to_sign(std::string_view amz_date, std::string_view scope,
                           std::string_view canonical_request);
/// Hex HMAC-SHA256 signature with the key derived from secret, date, region and service.
std::string signature(std::string_view secret, std::string_view date, std::string_view region,
                      std::string_view service, std::string_view string_to_sign);
/// The derived signing key (32 bytes): HMAC chain over date, region, service, "aws4_request".
std::string signing_key(std::string_view secret, std::string_view date, std::string_view region,
                        std::string_view service);
/// Hex HMAC-SHA256 of `string_to_sign` under a derived signing key.
std::string sign_with(std::string_view signing_key, std::string_view string_to_sign);
/// Lower-case hex SHA-256.
std::string hex_sha256(std::string_view data);
/// "20150830T123600Z" -> seconds since the epoch; -1 when malformed.
std::int64_t parse_amz_date(std::string_view s) noexcept;
}  // namespace sigv4

/// Checks SigV4 Authorization headers (and presigned query strings) against a set of access keys.
/// Derived signing keys (one per key, day, region and service) are cached, as AWS's SDKs do.
/// Distinct objects: safe. Shared objects: safe for verify() once keys are added.
class sigv4_verifier {
 public:
  sigv4_verifier() = default;
  sigv4_verifier(const sigv4_verifier&) = delete;
  sigv4_verifier& operator=(const sigv4_verifier&) = delete;
  /// Adds (or replaces) an access key.
  void add_key(access_key k);
  bool empty() const noexcept { return keys_.empty(); }
  /// The largest distance between X-Amz-Date and now (default 5 minutes, as AWS).
  sigv4_verifier& max_skew(std::chrono::seconds s) noexcept {
    max_skew_ = s;
    return *this;
  }
  /// Verifies `r` at `now` (seconds since the epoch). Signatures are compared in constant time.
  sigv4_result verify(const http_request_view& r, std::int64_t now) const;
  /// Verifies a presigned request (signature in the query string: X-Amz-Algorithm,
  /// X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Signature, optional
  /// X-Amz-Expires and X-Amz-Security-Token), as AWS IoT's MQTT-over-WebSocket URLs are
  /// signed: the payload hash is that of the empty body (or UNSIGNED-PAYLOAD), and
  /// X-Amz-Security-Token may be left out of the signed query (the AWS IoT SDKs add it
  /// after signing). X-Amz-Date must be within max_skew of now, or, with X-Amz-Expires
  /// (1..604800 s), now within [date - max_skew, date + expires].
  sigv4_result verify_presigned(const http_request_view& r, std::int64_t now) const;

 private:
  std::string signing_key(const access_key& k, std::string_view scope) const;
  /// The derived key for `credential` ("<id>/<date>/<region>/<service>/aws4_request", split
  /// in `parts`), from the cache or computed and cached.
  std::array<unsigned char, 32> cached_signing_key(
      const access_key& k, std::string_view credential,
      const std::array<std::string_view, 5>& parts) const;

  std::vector<access_key> keys_;
  std::chrono::seconds max_skew_{300};
  mutable std::mutex cache_mu_;
  /// credential ("id/date/region/service/aws4_request") -> derived key
  mutable std::map<std::string, std::array<unsigned char, 32>, std::less<>> signing_keys_;
};

}  // namespace iotblocks::gateway::aws

IOTBLOCKS_API_END
