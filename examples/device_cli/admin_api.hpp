// The gateway's admin REST API as device_cli uses it: one call, a status and
// the JSON answer (net::http_client; bearer token; RapidJSON for the answers).
#pragma once

#include <iotblocks/net/http_client.hpp>

#include <rapidjson/document.h>

#include <string>
#include <vector>

namespace elf {

/// The answer of one call. status 0: no HTTP answer (connection refused, timeout).
struct answer {
  unsigned status = 0;
  std::string body;
  std::string error;  ///< transport error, when status is 0
  rapidjson::Document json;

  /// A string member of the answer object, or empty.
  std::string field(const char* name) const {
    if (!json.IsObject()) return {};
    auto it = json.FindMember(name);
    return it != json.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
  }
  /// The strings of an array member, or none.
  std::vector<std::string> strings(const char* name) const {
    std::vector<std::string> out;
    if (!json.IsObject()) return out;
    auto it = json.FindMember(name);
    if (it == json.MemberEnd() || !it->value.IsArray()) return out;
    for (const auto& v : it->value.GetArray()) {
      if (v.IsString()) out.emplace_back(v.GetString());
    }
    return out;
  }
  std::string describe() const {
    return status == 0 ? error : "HTTP " + std::to_string(status) + " " + body;
  }
};

/// Distinct objects: safe. Shared objects: safe.
class admin_api {
 public:
  admin_api(std::string base_url, std::string token)
      : base_(std::move(base_url)), token_(std::move(token)) {
    client_.timeout(std::chrono::seconds(30));
  }

  /// METHOD base/admin`path` with a JSON body (none when empty).
  answer call(const std::string& method, const std::string& path,
              const std::string& body = {}) const {
    iotblocks::net::http_request req;
    req.method = method;
    req.url = base_ + "/admin" + path;
    req.headers = {{"authorization", "Bearer " + token_}};
    if (!body.empty()) req.headers.emplace_back("content-type", "application/json");
    req.body = body;
    answer a;
    std::error_code ec;
    auto res = client_.send(req, ec);
    if (ec) {
      a.error = method + " " + req.url + ": " + ec.message();
      return a;
    }
    a.status = res.status;
    a.body = std::move(res.body);
    a.json.Parse(a.body.c_str());
    return a;
  }

 private:
  std::string base_;
  std::string token_;
  iotblocks::net::http_client client_;
};

}  // namespace elf
