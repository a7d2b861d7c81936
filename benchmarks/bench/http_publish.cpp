// iotblocks-bench --http (see http_publish.hpp): one thread per keep-alive connection.
#include "http_publish.hpp"

#include <iotblocks/gateway/aws_sigv4.hpp>

#include <fmt/format.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <unistd.h>

namespace iotblocks::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace aws = iotblocks::gateway::aws;
using clock_type = std::chrono::steady_clock;

/// utime + stime of `pid` in seconds (/proc/<pid>/stat), or -1.
double cpu_seconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) stime = std::stod(f);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string amz_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  const auto n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

/// Sets X-Amz-Date and Authorization as botocore signs `aws iot-data publish`.
void sign(const http_publish_config& cfg, http::request<http::string_body>& req,
          std::string_view path, std::string_view query, std::time_t now) {
  const auto date = amz_date(now);
  std::vector<aws::header> headers{{"Host", std::string(req[http::field::host])},
                                   {"X-Amz-Date", date}};
  const aws::http_request_view v{"POST", path, query, headers, req.body()};
  const auto creq =
      aws::sigv4::canonical_request(v, "host;x-amz-date", aws::sigv4::hex_sha256(req.body()));
  const std::string day = date.substr(0, 8);
  const std::string scope = day + "/" + cfg.region + "/iotdata/aws4_request";
  const auto sig = aws::sigv4::signature(cfg.secret, day, cfg.region, "iotdata",
                                         aws::sigv4::string_to_sign(date, scope, creq));
  req.set("X-Amz-Date", date);
  req.set(http::field::authorization, "AWS4-HMAC-SHA256 Credential=" + cfg.access_key_id + "/" +
                                          scope +
                                          ", SignedHeaders=host;x-amz-date, Signature=" + sig);
}

struct connection_result {
  std::uint64_t ok = 0, errors = 0;
  std::vector<std::int64_t> latencies_ns;
  bool failed = false;
  std::string error;
};

void drive(const http_publish_config& cfg, unsigned index, clock_type::time_point until,
           connection_result& out) {
  try {
    asio::io_context io;
    beast::tcp_stream stream(io);
    asio::ip::tcp::resolver resolver(io);
    stream.connect(resolver.resolve(cfg.host, std::to_string(cfg.port)));
    const std::string path =
        "/topics/bench%2F" + std::to_string(::getpid()) + "%2F" + std::to_string(index);
    const std::string query = "qos=0";
    http::request<http::string_body> req{http::verb::post, path + "?" + query, 11};
    req.set(http::field::host, cfg.host + ":" + std::to_string(cfg.port));
    req.keep_alive(true);
    req.body() = std::string(cfg.payload, 'x');
    req.prepare_payload();
    std::time_t signed_at = 0;
    beast::flat_buffer buffer;
    out.latencies_ns.reserve(1u << 20);
    while (clock_type::now() < until) {
      // A signature stays valid for minutes: re-sign when X-Amz-Date's second changes.
      if (!cfg.access_key_id.empty()) {
        const std::time_t now = std::time(nullptr);
        if (now != signed_at) sign(cfg, req, path, query, signed_at = now);
      }
      const auto t0 = clock_type::now();
      http::write(stream, req);
      http::response<http::string_body> res;
      http::read(stream, buffer, res);
      out.latencies_ns.push_back(
          std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now() - t0).count());
      if (res.result_int() == 200) {
        ++out.ok;
      } else {
        if (out.errors++ == 0) out.error = std::to_string(res.result_int()) + " " + res.body();
      }
      if (!res.keep_alive()) break;
    }
    beast::error_code ec;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  } catch (const std::exception& e) {
    out.failed = true;
    out.error = e.what();
  }
}

/// `s` as the inside of a JSON string (quotes, backslashes and control characters escaped).
std::string json_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

int run_http_publish(const http_publish_config& cfg) {
  std::vector<connection_result> results(cfg.connections);
  const double cpu0 = cfg.server_pid > 0 ? cpu_seconds(cfg.server_pid) : -1;
  const auto start = clock_type::now();
  const auto until = start + std::chrono::duration_cast<clock_type::duration>(
                                 std::chrono::duration<double>(cfg.duration));
  {
    std::vector<std::jthread> threads;
    for (unsigned i = 0; i < cfg.connections; ++i) {
      threads.emplace_back([&, i] { drive(cfg, i, until, results[i]); });
    }
  }
  const double elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
  const double cpu1 = cfg.server_pid > 0 ? cpu_seconds(cfg.server_pid) : -1;
  std::uint64_t ok = 0, errors = 0;
  std::vector<std::int64_t> all;
  bool failed = false;
  std::string first_error;
  for (auto& r : results) {
    ok += r.ok;
    errors += r.errors;
    failed |= r.failed;
    if (first_error.empty()) first_error = r.error;
    all.insert(all.end(), r.latencies_ns.begin(), r.latencies_ns.end());
  }
  std::sort(all.begin(), all.end());
  auto pct = [&](double q) {
    if (all.empty()) return 0.0;
    return static_cast<double>(
               all[static_cast<std::size_t>(q * static_cast<double>(all.size() - 1))]) /
           1000.0;
  };
  const double server_cpu = cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1;
  const std::uint64_t total = ok + errors;
  fmt::print(
      "{{\"label\":\"{}\",\"mode\":\"http\",\"signed\":{},\"host\":\"{}\",\"port\":{},"
      "\"connections\":{},\"payload\":{},\"duration_s\":{:.3f},\"requests\":{},\"ok\":{},"
      "\"errors\":{},\"first_error\":\"{}\",\"requests_per_s\":{:.0f},"
      "\"latency_us\":{{\"p50\":{:.1f},\"p99\":{:.1f},\"max\":{:.1f}}},"
      "\"server_cpu_s\":{:.3f},\"server_cpu_us_per_request\":{:.2f},"
      "\"requests_per_server_cpu_s\":{:.0f}}}\n",
      cfg.label, cfg.access_key_id.empty() ? "false" : "true", cfg.host, cfg.port, cfg.connections,
      cfg.payload, elapsed, total, ok, errors, json_escape(first_error.substr(0, 200)),
      static_cast<double>(total) / elapsed, pct(0.5), pct(0.99),
      all.empty() ? 0.0 : static_cast<double>(all.back()) / 1000.0, server_cpu,
      server_cpu >= 0 && total > 0 ? server_cpu * 1e6 / static_cast<double>(total) : -1.0,
      server_cpu > 0 ? static_cast<double>(total) / server_cpu : -1.0);
  return failed || ok == 0 ? 2 : 0;
}

}  // namespace iotblocks::bench
