// The AWS-shaped API's publish: BM_Sigv4Verify checks one `aws iot-data publish`-shaped
// request (signed as botocore signs it) in memory; BM_HttpPublish sends publishes to a
// running gateway over one keep-alive HTTP connection on loopback, signed:1 with SigV4
// (the AWS API) and signed:0 unsigned (`POST /topics/...`), side by side.
#include <iotblocks/gateway/aws_sigv4.hpp>
#include <iotblocks/gateway/config.hpp>
#include <iotblocks/gateway/gateway.hpp>

#include <benchmark/benchmark.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace iotblocks;
using namespace iotblocks::gateway::aws;
namespace http = boost::beast::http;

constexpr std::string_view key_id = "AKIDBENCH", secret = "bench-secret";

std::string amz_date(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[20];
  const auto n = std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(buf, n);
}

/// Adds X-Amz-Date and Authorization as botocore does (host;x-amz-date signed).
void sign(std::vector<header>& headers, std::string_view method, std::string_view path,
          std::string_view query, std::string_view body, std::time_t now) {
  const auto date = amz_date(now);
  headers.emplace_back("X-Amz-Date", date);
  const http_request_view v{method, path, query, headers, body};
  const auto creq = sigv4::canonical_request(v, "host;x-amz-date", sigv4::hex_sha256(body));
  const std::string scope = date.substr(0, 8) + "/eu-west-1/iotdata/aws4_request";
  const auto sig = sigv4::signature(secret, date.substr(0, 8), "eu-west-1", "iotdata",
                                    sigv4::string_to_sign(date, scope, creq));
  headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + std::string(key_id) + "/" +
                                            scope +
                                            ", SignedHeaders=host;x-amz-date, Signature=" + sig);
}

void BM_Sigv4Verify(benchmark::State& state) {
  const std::time_t now = std::time(nullptr);
  const std::string body = R"({"temperature":21.5,"humidity":40})";
  std::vector<header> headers{{"Host", "127.0.0.1:8080"}, {"Content-Length", "35"}};
  sign(headers, "POST", "/topics/dev%2F1%2Ftemp", "qos=1", body, now);
  sigv4_verifier v;
  v.add_key({std::string(key_id), std::string(secret)});
  const http_request_view req{"POST", "/topics/dev%2F1%2Ftemp", "qos=1", headers, body};
  for (auto _ : state) {
    auto out = v.verify(req, now);
    benchmark::DoNotOptimize(out);
    if (!out.ok()) state.SkipWithError(out.message.c_str());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Sigv4Verify);

void BM_HttpPublish(benchmark::State& state) {
  const bool signed_request = state.range(0) != 0;
  namespace fs = std::filesystem;
  const auto dir =
      fs::temp_directory_path() / ("iotblocks-aws-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto cfg = gateway::parse_config(R"({"listeners":[{"type":"http","port":0}]})").value();
  cfg.data_dir = dir.string();
  cfg.aws_access_keys.push_back({std::string(key_id), std::string(secret), {}});
  gateway::gateway gw(cfg);
  gw.start().value();
  const auto port = gw.port("http");

  boost::asio::io_context io;
  boost::beast::tcp_stream stream(io);
  stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  const std::string host = "127.0.0.1:" + std::to_string(port);
  const std::string body = R"({"temperature":21.5,"humidity":40})";
  http::request<http::string_body> req{http::verb::post, "/topics/dev%2F1%2Ftemp?qos=0", 11};
  req.set(http::field::host, host);
  req.keep_alive(true);
  req.body() = body;
  if (signed_request) {
    std::vector<header> headers{{"Host", host}};
    sign(headers, "POST", "/topics/dev%2F1%2Ftemp", "qos=0", body, std::time(nullptr));
    for (std::size_t i = 1; i < headers.size(); ++i) req.set(headers[i].first, headers[i].second);
  }
  req.prepare_payload();
  boost::beast::flat_buffer buffer;
  for (auto _ : state) {
    http::write(stream, req);
    http::response<http::string_body> res;
    http::read(stream, buffer, res);
    if (res.result_int() != 200) state.SkipWithError(res.body().c_str());
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(signed_request ? "SigV4 (aws iot-data publish)" : "unsigned POST /topics");
  boost::beast::error_code ec;
  stream.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  gw.stop();
  fs::remove_all(dir);
}
BENCHMARK(BM_HttpPublish)->ArgName("signed")->Arg(0)->Arg(1)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
