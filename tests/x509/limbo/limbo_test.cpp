// Runs the x509 verifier over the x509-limbo test suite
// (https://x509-limbo.com, file format "limbo.json" version 1).
//
// The suite file is $IOTBLOCKS_LIMBO_JSON when set, else the copy in the
// repository, tests/data/x509/limbo/limbo.json (see the README beside it).
// Cases are evaluated like OpenSSL's own limbo harness: trusted_certs are the
// anchors, untrusted_intermediates are presented after the peer, the
// expected_peer_name is checked, extended_key_usage selects the purpose,
// max_chain_depth limits the intermediates; plus our strict defaults.
//
// Rules: no case that expects FAILURE may succeed; every case expecting
// SUCCESS that we reject is listed with its reason in expected_failures.txt,
// and the test fails when that set changes (in either direction).
#include <iotblocks/x509.hpp>

#include "core/json.hpp"
#include "x509/test_util.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace iotblocks::x509 {
namespace {

// Features of the suite we do not implement, with the reason.
const std::map<std::string, std::string>& skipped_features() {
  static const std::map<std::string, std::string> m = {
      {"pedantic-webpki-eku",
       "Web PKI EKU policy (EKU required, no anyExtendedKeyUsage, no EKU on roots): device "
       "certificates often carry no EKU and RFC 5280 allows that"},
      {"pedantic-rfc5280", "a cross-signed root without AKI: accepted as OpenSSL does"},
      {"rfc5280-incompatible-with-webpki",
       "non-critical name constraints: we follow the Web PKI reading (as OpenSSL), see "
       "webpki::nc::permitted-dns-match-noncritical"},
  };
  return m;
}

std::string limbo_path() {
  if (const char* env = std::getenv("IOTBLOCKS_LIMBO_JSON")) return env;
  return "tests/data/x509/limbo/limbo.json";
}

std::map<std::string, std::string> load_expected_failures() {
  std::map<std::string, std::string> out;
  std::ifstream in("tests/x509/limbo/expected_failures.txt");
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    const auto sep = line.find(' ');
    out.emplace(line.substr(0, sep), sep == std::string::npos ? "" : line.substr(sep + 1));
  }
  return out;
}

std::optional<time_point> parse_rfc3339(std::string_view s) {
  std::tm tm{};
  std::istringstream in{std::string(s.substr(0, 19))};
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

struct outcome {
  bool skipped = false;
  std::string skip_reason;
  bool success = false;
  std::string detail;
};

outcome evaluate(const rapidjson::Value& tc) {
  outcome out;
  if (const auto* f = json::find(tc, "features"); f && f->IsArray()) {
    for (const auto& feature : f->GetArray()) {
      auto it = skipped_features().find(std::string(json::view(feature)));
      if (it != skipped_features().end()) {
        out.skipped = true;
        out.skip_reason = it->first + ": " + it->second;
        return out;
      }
    }
  }
  if (json::get_string(tc, "validation_kind").value_or("") != "SERVER") {
    out.skipped = true;
    out.skip_reason = "only SERVER validation is implemented";
    return out;
  }
  verifier v;
  for (const auto& pem : json::find(tc, "trusted_certs")->GetArray()) {
    auto c = certificate::from_pem(json::view(pem));
    if (!c) {
      out.detail = "trusted certificate does not parse: " + c.describe();
      return out;
    }
    v.add_trusted(*c).value();
  }
  std::vector<byte_buffer> presented;
  auto leaf = pem_to_der(*json::get_string(tc, "peer_certificate"));
  if (!leaf) {
    out.detail = "peer certificate does not parse: " + leaf.describe();
    return out;
  }
  presented.push_back(std::move(leaf->front()));
  for (const auto& pem : json::find(tc, "untrusted_intermediates")->GetArray()) {
    auto der = pem_to_der(json::view(pem));
    if (!der) {
      out.detail = "intermediate does not parse: " + der.describe();
      return out;
    }
    presented.push_back(std::move(der->front()));
  }
  verify_options o;
  o.profile = profile::strict;  // the vectors are RFC 5280 / CA/B Forum expectations
  if (auto t = json::get_string(tc, "validation_time")) {
    o.at = parse_rfc3339(*t);
  }
  if (const auto* name = json::find(tc, "expected_peer_name"); name && name->IsObject()) {
    const auto kind = json::get_string(*name, "kind").value_or("");
    const std::string value{json::get_string(*name, "value").value_or("")};
    if (kind == "DNS") o.host = value;
    if (kind == "IP") o.ip = value;
    if (kind == "RFC822") o.email = value;
  }
  if (const auto* eku = json::find(tc, "extended_key_usage"); eku && eku->IsArray()) {
    for (const auto& e : eku->GetArray()) {
      if (json::view(e) == "serverAuth") o.purpose = purpose::tls_server;
      if (json::view(e) == "clientAuth") o.purpose = purpose::tls_client;
    }
  }
  if (auto depth = json::get_int64(tc, "max_chain_depth"))
    o.max_intermediates = static_cast<int>(*depth);
  std::vector<bytes_view> chain(presented.begin(), presented.end());
  auto r = v.verify(chain, o);
  if (!r) {
    out.detail = r.describe();
    return out;
  }
  if (const auto* ku = json::find(tc, "key_usage"); ku && ku->IsArray()) {
    const auto leaf_cert = certificate::from_der(chain.front());
    for (const auto& k : ku->GetArray()) {
      if (json::view(k) == "digitalSignature" && leaf_cert &&
          leaf_cert->key_usages().value_or(digital_signature) % 2 == 0) {
        out.detail = "leaf lacks digitalSignature";
        return out;
      }
    }
  }
  out.success = true;
  return out;
}

TEST(Limbo, Suite) {
  const std::string path = limbo_path();
  // The suite ships with the repository: missing data is a failure, not a skip.
  ASSERT_TRUE(std::filesystem::exists(path))
      << "x509-limbo suite not found at " << path << " (set IOTBLOCKS_LIMBO_JSON)";
  const auto text = test::read_file(path);
  auto doc = json::parse(text, {.max_depth = 16});
  ASSERT_TRUE(doc) << doc.describe();
  ASSERT_EQ(json::get_int64(*doc, "version"), 1);
  const auto expected_failures = load_expected_failures();
  const bool report = std::getenv("IOTBLOCKS_LIMBO_REPORT") != nullptr;

  int passed = 0, failed = 0, skipped = 0;
  std::set<std::string> wrong;
  std::map<std::string, int> skip_reasons;
  for (const auto& tc : json::find(*doc, "testcases")->GetArray()) {
    const std::string id{*json::get_string(tc, "id")};
    const bool expect_success = json::get_string(tc, "expected_result") == "SUCCESS";
    const outcome o = evaluate(tc);
    if (o.skipped) {
      ++skipped;
      ++skip_reasons[o.skip_reason];
      if (report) std::cout << "SKIP " << id << " (" << o.skip_reason << ")\n";
      continue;
    }
    if (o.success == expect_success) {
      ++passed;
      if (report) std::cout << "PASS " << id << (o.success ? "" : " [" + o.detail + "]") << "\n";
      continue;
    }
    ++failed;
    wrong.insert(id);
    std::cout << "WRONG " << id << ": expected " << (expect_success ? "SUCCESS" : "FAILURE")
              << ", got " << (o.success ? "SUCCESS" : "FAILURE: " + o.detail) << "\n";
    EXPECT_TRUE(expect_success) << id << " expects FAILURE but verified";
  }
  std::cout << "x509-limbo: " << passed << " passed, " << failed << " failed, " << skipped
            << " skipped\n";
  for (const auto& [reason, count] : skip_reasons) {
    std::cout << "  skipped " << count << ": " << reason << "\n";
  }
  std::set<std::string> listed;
  for (const auto& [id, reason] : expected_failures) listed.insert(id);
  EXPECT_EQ(wrong, listed) << "the set of wrong cases changed; update "
                              "tests/x509/limbo/expected_failures.txt";
}

}  // namespace
}  // namespace iotblocks::x509
