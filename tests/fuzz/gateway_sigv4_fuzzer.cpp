// SigV4 verification of arbitrary requests: never crashes; every refusal has AWS's
// status (400/403), type and message; and a request signed here with the same
// canonicalisation (any method, path, query, headers, body) always verifies, and
// stops verifying when the secret differs.
// Presigned (query-string) verification of the same input never crashes either.
// Input: "method\npath\nquery\nname: value\n...\n\nbody".
#include <iotblocks/gateway/aws_sigv4.hpp>

#include <algorithm>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace iotblocks::gateway::aws;

void require(bool ok) {
  if (!ok) std::abort();
}

std::string_view line(std::string_view& in) {
  const auto nl = in.find('\n');
  const auto out = in.substr(0, nl);
  in.remove_prefix(nl == std::string_view::npos ? in.size() : nl + 1);
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return out;
}

constexpr std::int64_t now = 1440938160;  // 20150830T123600Z

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1 << 14) return 0;
  std::string_view in{reinterpret_cast<const char*>(data), size};
  const std::string method(line(in)), path(line(in)), query(line(in));
  std::vector<header> headers;
  while (!in.empty()) {
    const auto l = line(in);
    if (l.empty()) break;
    const auto colon = l.find(':');
    if (colon == std::string_view::npos) continue;
    headers.emplace_back(std::string(l.substr(0, colon)), std::string(l.substr(colon + 1)));
  }
  const std::string body(in);

  sigv4_verifier v;
  v.add_key({"AKIDEXAMPLE", "secret"});
  const auto as_is = v.verify({method, path, query, headers, body}, now);
  if (!as_is.ok()) {
    require(as_is.status == 400 || as_is.status == 403);
    require(!as_is.error_type.empty() && !as_is.message.empty());
  }
  // The same query as a presigned URL (MQTT over WebSocket): refusals are AWS-shaped too.
  const auto presigned = v.verify_presigned({method, path, query, headers, body}, now);
  if (!presigned.ok()) {
    require(presigned.status == 400 || presigned.status == 403);
    require(!presigned.error_type.empty() && !presigned.message.empty());
  }

  // Sign the same request here and check that it verifies.
  std::vector<header> signed_headers;
  std::set<std::string> names{"host", "x-amz-date"};
  for (const auto& [name, value] : headers) {
    const auto n = lower(name);
    if (n.empty() || n == "authorization" || n == "x-amz-date" || n == "x-amz-content-sha256" ||
        n.find_first_of(";,= \t\r") != std::string::npos) {
      continue;
    }
    names.insert(n);
    signed_headers.emplace_back(name, value);
  }
  signed_headers.emplace_back("x-amz-date", "20150830T123600Z");
  if (std::none_of(signed_headers.begin(), signed_headers.end(),
                   [](const header& h) { return lower(h.first) == "host"; })) {
    signed_headers.emplace_back("Host", "127.0.0.1");
  }
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ";") + n;
  const http_request_view view{method, path, query, signed_headers, body};
  const auto creq = sigv4::canonical_request(view, list, sigv4::hex_sha256(body));
  const std::string scope = "20150830/us-east-1/iotdata/aws4_request";
  const auto sig = sigv4::signature("secret", "20150830", "us-east-1", "iotdata",
                                    sigv4::string_to_sign("20150830T123600Z", scope, creq));
  signed_headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/" + scope +
                                                   ", SignedHeaders=" + list +
                                                   ", Signature=" + sig);
  const http_request_view signed_view{method, path, query, signed_headers, body};
  const auto out = v.verify(signed_view, now);
  require(out.ok() && out.service == "iotdata" && out.region == "us-east-1");
  sigv4_verifier other;
  other.add_key({"AKIDEXAMPLE", "other"});
  require(other.verify(signed_view, now).result == sigv4_result::verdict::bad_signature);
  return 0;
}
