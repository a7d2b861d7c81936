// The web console's static files (embedded at build time) and its unauthenticated
// configuration document. Nothing here is secret: the pages hold no credentials and
// every admin call they make carries the token the user typed.
#include "gateway/console.hpp"

#include "core/json.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace iotblocks::gateway {
namespace {

constexpr std::string_view console_prefix = "/console";

const std::vector<std::pair<std::string, std::string>>& security_headers() {
  // The pages load nothing from elsewhere; WebSocket MQTT goes to another port.
  static const std::vector<std::pair<std::string, std::string>> h{
      {"Cache-Control", "no-cache"},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "no-referrer"},
      {"Content-Security-Policy",
       "default-src 'self'; connect-src 'self' ws: wss: blob:; img-src 'self' data: blob:; "
       "style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'"}};
  return h;
}

net::http_reply redirect(std::string location) {
  net::http_reply r{302, "", "text/plain; charset=utf-8"};
  r.headers.emplace_back("Location", std::move(location));
  return r;
}

net::http_reply not_found() { return {404, R"({"message":"not found"})"}; }

/// True when the If-None-Match header lists `etag` (or is "*").
bool etag_matches(std::string_view header, std::string_view etag) {
  if (header == "*") return true;
  while (!header.empty()) {
    const auto comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    if (item.starts_with("W/")) item.remove_prefix(2);
    if (item == etag) return true;
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return false;
}

net::http_reply serve_file(const console_file& f, const net::incoming_request& r) {
  net::http_reply reply;
  reply.headers = security_headers();
  reply.headers.emplace_back("ETag", std::string(f.etag));
  if (etag_matches(r.if_none_match, f.etag)) {
    reply.status = 304;
    reply.content_type = std::string(console_content_type(f.path));
    return reply;
  }
  reply.body = std::string(f.data);
  reply.content_type = std::string(console_content_type(f.path));
  return reply;
}

/// GET /console/config.json: where the browser reaches the broker. Ports and
/// paths only — never the admin token nor any TLS file.
std::string config_json(const gateway::impl& g) {
  rapidjson::Document d;
  d.SetObject();
  auto& a = d.GetAllocator();
  rapidjson::Value listeners(rapidjson::kArrayType);
  for (const auto& e : g.endpoints) {
    rapidjson::Value l(rapidjson::kObjectType);
    l.AddMember("type", json::string_value(e.type, a), a);
    l.AddMember("address", json::string_value(e.address, a), a);
    l.AddMember("port", e.port, a);
    if (e.type == "ws" || e.type == "wss") {
      for (const auto& c : g.cfg.listeners) {
        if (c.type == e.type && c.address == e.address) {
          l.AddMember("path", json::string_value(c.ws_path, a), a);
          break;
        }
      }
    }
    listeners.PushBack(l, a);
  }
  d.AddMember("listeners", listeners, a);
  d.AddMember("adminEnabled", !g.cfg.admin_token.empty(), a);
  d.AddMember("authorize", g.cfg.authorize, a);
  return json::write(d);
}

}  // namespace

std::string_view console_content_type(std::string_view path) noexcept {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 10> types{{
      {".html", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"},
  }};
  for (const auto& [ext, type] : types) {
    if (path.ends_with(ext)) return type;
  }
  return "application/octet-stream";
}

void add_console_routes(gateway::impl& g) {
  // "/" is the longest-prefix fallback of every GET: only "/" itself redirects.
  g.http.route("GET", "/", [](const net::incoming_request& r) {
    return r.path == "/" ? redirect("/console/") : not_found();
  });
  g.http.route("GET", std::string(console_prefix), [&g](const net::incoming_request& r) {
    if (r.path == console_prefix) return redirect("/console/");
    std::string_view rest = std::string_view(r.path).substr(console_prefix.size());
    if (rest == "/config.json") {
      net::http_reply reply{200, config_json(g)};
      reply.headers = security_headers();
      reply.headers[0].second = "no-store";
      return reply;
    }
    if (rest == "/") rest = "/index.html";
    const auto files = console_files();
    const auto it =
        std::lower_bound(files.begin(), files.end(), rest,
                         [](const console_file& f, std::string_view p) { return f.path < p; });
    if (it == files.end() || it->path != rest) return not_found();
    return serve_file(*it, r);
  });
}

}  // namespace iotblocks::gateway
