// The transports against real sockets on 127.0.0.1: TCP, TLS with client
// certificates (made by the openssl command), WebSocket; hostile clients.
#include <iotblocks/mqtt.hpp>
#include <iotblocks/net/server.hpp>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include <unistd.h>

namespace iotblocks::net {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Answers CONNECT with CONNACK and PINGREQ with PINGRESP; records what it saw.
struct test_handler : handler {
  void on_packet(const connection_ptr& c, const mqtt::packet_view& p) override {
    packets.fetch_add(1);
    byte_buffer out;
    if (std::holds_alternative<mqtt::connect_view>(p)) {
      c->set_protocol(std::get<mqtt::connect_view>(p).version);
      (void)mqtt::encode(mqtt::packet{mqtt::connack{}}, mqtt::protocol_version::v3_1_1, out);
      c->send(std::move(out));
    } else if (std::holds_alternative<mqtt::pingreq_view>(p)) {
      (void)mqtt::encode(mqtt::packet{mqtt::pingresp{}}, mqtt::protocol_version::v3_1_1, out);
      c->send(std::move(out));
    }
  }
  void on_protocol_error(const connection_ptr& c, mqtt::reason_code r, const failure& f) override {
    last_reason = r;
    std::lock_guard lock(mutex);
    last_error = f.describe();
    handler::on_protocol_error(c, r, f);
  }
  bool on_tls_peer(const peer_info& p) override {
    std::lock_guard lock(mutex);
    chain_size = p.chain.size();
    return allow_tls;
  }
  void on_tls_refused(const peer_info& p, const tls_refusal& r) override {
    std::lock_guard lock(mutex);
    refusals.push_back({r.verify_error, r.reason, p.chain.size()});
  }
  void on_close(const connection_ptr&, std::error_code) override { closed.fetch_add(1); }

  struct refusal {
    int verify_error;
    std::string reason;
    std::size_t chain_size;
  };
  std::vector<refusal> refusals;
  std::atomic<int> packets{0};
  std::atomic<int> closed{0};
  std::atomic<mqtt::reason_code> last_reason{mqtt::reason_code::success};
  std::mutex mutex;
  std::string last_error;
  std::size_t chain_size = 0;
  bool allow_tls = true;
};

// CONNECT (3.1.1, client id "c1", keep-alive 60) followed by PINGREQ.
const std::string connect_and_ping = std::string(
                                         "\x10\x0E\x00\x04MQTT\x04\x02\x00\x3C\x00\x02"
                                         "c1",
                                         16) +
                                     std::string("\xC0\x00", 2);
server_options opts(std::size_t threads) {
  server_options o;
  o.threads = threads;
  return o;
}

listener_options on(transport kind) {
  listener_options l;
  l.kind = kind;
  l.port = 0;
  return l;
}

const std::string connack_and_pingresp = std::string("\x20\x02\x00\x00\xD0\x00", 6);

std::string read_exactly(tcp::socket& s, std::size_t n) {
  std::string buf(n, '\0');
  asio::read(s, asio::buffer(buf));
  return buf;
}

TEST(NetServer, TcpRoundTrip) {
  test_handler h;
  server s{opts(2)};
  const auto port = s.listen(on(transport::tcp)).value();
  s.start(h);
  asio::io_context io;
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(sock, asio::buffer(connect_and_ping));
  EXPECT_EQ(read_exactly(sock, 6), connack_and_pingresp);
  EXPECT_EQ(h.packets.load(), 2);
  s.stop();
}

TEST(NetServer, MalformedPacketClosesOnlyThatClient) {
  test_handler h;
  server s{opts(1)};
  const auto port = s.listen(on(transport::tcp)).value();
  s.start(h);
  asio::io_context io;
  tcp::socket good(io), bad(io);
  good.connect({asio::ip::make_address("127.0.0.1"), port});
  bad.connect({asio::ip::make_address("127.0.0.1"), port});
  // A remaining length of five bytes (MQTT allows four): malformed.
  asio::write(bad, asio::buffer(std::string("\x10\xFF\xFF\xFF\xFF\x7F", 6)));
  boost::system::error_code ec;
  char byte;
  asio::read(bad, asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(h.last_reason.load(), mqtt::reason_code::malformed_packet);
  asio::write(good, asio::buffer(connect_and_ping));
  EXPECT_EQ(read_exactly(good, 6), connack_and_pingresp);
  s.stop();
}

TEST(NetServer, SilentClientIsClosedAfterConnectTimeout) {
  test_handler h;
  auto o = opts(1);
  o.connect_timeout = std::chrono::milliseconds(150);
  server s{o};
  const auto port = s.listen(on(transport::tcp)).value();
  s.start(h);
  asio::io_context io;
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(sock, asio::buffer(std::string("\x10", 1)));  // one byte, then silence
  boost::system::error_code ec;
  char byte;
  const auto start = std::chrono::steady_clock::now();
  asio::read(sock, asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  s.stop();
}

TEST(NetServer, ConnectionLimitRejectsExtraClients) {
  test_handler h;
  auto o = opts(1);
  o.max_connections = 1;
  server s{o};
  const auto port = s.listen(on(transport::tcp)).value();
  s.start(h);
  asio::io_context io;
  tcp::socket first(io), second(io);
  first.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(first, asio::buffer(connect_and_ping));
  EXPECT_EQ(read_exactly(first, 6), connack_and_pingresp);
  second.connect({asio::ip::make_address("127.0.0.1"), port});
  boost::system::error_code ec;
  char byte;
  asio::read(second, asio::buffer(&byte, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_EQ(s.stats().rejected, 1u);
  s.stop();
}

TEST(NetServer, WebSocketWithMqttSubprotocol) {
  test_handler h;
  server s{opts(1)};
  const auto port = s.listen(on(transport::ws)).value();
  s.start(h);
  asio::io_context io;
  boost::beast::websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  ws.set_option(boost::beast::websocket::stream_base::decorator(
      [](auto& req) { req.set(boost::beast::http::field::sec_websocket_protocol, "mqtt"); }));
  boost::beast::websocket::response_type res;
  ws.handshake(res, "127.0.0.1", "/mqtt");
  EXPECT_EQ(res[boost::beast::http::field::sec_websocket_protocol], "mqtt");
  ws.binary(true);
  ws.write(asio::buffer(connect_and_ping));
  std::string got;
  while (got.size() < 6) {
    boost::beast::flat_buffer b;
    ws.read(b);
    got += boost::beast::buffers_to_string(b.data());
  }
  EXPECT_EQ(got, connack_and_pingresp);
  s.stop();
}

// A handler that refuses upgrades whose target carries "deny" and records what it saw.
struct upgrade_handler : test_handler {
  upgrade_verdict on_ws_upgrade(peer_info& p) override {
    std::lock_guard lock(mutex);
    targets.push_back(p.ws_target);
    for (const auto& [name, value] : p.ws_headers) {
      if (name == "X-Custom") custom_header = value;
    }
    if (p.ws_target.find("deny") != std::string::npos) return {403, "denied by the handler\n"};
    p.identity = "checked";
    return {};
  }
  std::vector<std::string> targets;
  std::string custom_header;
};

// One raw upgrade request: the status line and body of the answer (or of 101).
std::pair<unsigned, std::string> raw_upgrade(std::uint16_t port, const std::string& target,
                                             const std::string& protocol, bool upgrade = true) {
  asio::io_context io;
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  namespace http = boost::beast::http;
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  if (upgrade) {
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::upgrade, "websocket");
    req.set(http::field::sec_websocket_version, "13");
    req.set(http::field::sec_websocket_key, "dGhlIHNhbXBsZSBub25jZQ==");
  }
  if (!protocol.empty()) req.set(http::field::sec_websocket_protocol, protocol);
  req.set("X-Custom", "seen");
  http::write(sock, req);
  boost::beast::flat_buffer buf;
  http::response_parser<http::string_body> parser;
  parser.skip(false);
  boost::system::error_code ec;
  http::read_header(sock, buf, parser, ec);
  if (ec) return {0, ec.message()};
  const auto status = parser.get().result_int();
  if (status == 101) {
    return {101, std::string(parser.get()[http::field::sec_websocket_protocol])};
  }
  http::read(sock, buf, parser, ec);
  return {status, parser.get().body()};
}

TEST(NetServer, WebSocketUpgradeQueryStringsSubprotocolsAndRefusals) {
  upgrade_handler h;
  server s{opts(1)};
  const auto port = s.listen(on(transport::ws)).value();
  s.start(h);
  // Any query string on the path; the subprotocol answered as offered.
  EXPECT_EQ(raw_upgrade(port, "/mqtt?X-Amz-Date=1&a=b%2F", "mqtt"),
            (std::pair<unsigned, std::string>{101, "mqtt"}));
  EXPECT_EQ(raw_upgrade(port, "/mqtt", "mqttv3.1"),
            (std::pair<unsigned, std::string>{101, "mqttv3.1"}));
  EXPECT_EQ(raw_upgrade(port, "/mqtt", "chat, mqttv3.1, mqtt"),
            (std::pair<unsigned, std::string>{101, "mqttv3.1"}));
  // Refusals are HTTP answers before the upgrade.
  EXPECT_EQ(raw_upgrade(port, "/mqtt?deny=1", "mqtt"),
            (std::pair<unsigned, std::string>{403, "denied by the handler\n"}));
  EXPECT_EQ(raw_upgrade(port, "/other?x=1", "mqtt").first, 404u);
  EXPECT_EQ(raw_upgrade(port, "/mqtt", "chat").first, 400u);
  EXPECT_EQ(raw_upgrade(port, "/mqtt", "").first, 400u);
  EXPECT_EQ(raw_upgrade(port, "/mqtt", "mqtt", false).first, 426u);
  s.stop();
  std::lock_guard lock(h.mutex);
  EXPECT_EQ(h.targets, (std::vector<std::string>{"/mqtt?X-Amz-Date=1&a=b%2F", "/mqtt", "/mqtt",
                                                 "/mqtt?deny=1"}));
  EXPECT_EQ(h.custom_header, "seen");
  EXPECT_EQ(s.stats().handshake_failures, 5u);
}

class NetTls : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One directory per process: ctest runs the tests of this suite in parallel.
    dir_ = std::filesystem::temp_directory_path() /
           ("iotblocks-net-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    const std::string d = dir_.string();
    const std::string script =
        "cd " + d +
        " && "
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
        "-subj /CN=TestCA -keyout ca.key -out ca.pem 2>/dev/null && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
        "-keyout server.key -out server.csr 2>/dev/null && "
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-out server.pem 2>/dev/null && "
        "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=probe_1 "
        "-keyout device.key -out device.csr 2>/dev/null && "
        "openssl x509 -req -in device.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
        "-out device.pem 2>/dev/null";
    ASSERT_EQ(std::system(script.c_str()), 0);
  }
  static void TearDownTestSuite() { std::filesystem::remove_all(dir_); }
  static std::string file(const char* name) { return (dir_ / name).string(); }

  static listener_options tls_listener(bool with_ca_file) {
    auto l = on(transport::tls);
    l.tls.cert_file = file("server.pem");
    l.tls.key_file = file("server.key");
    if (with_ca_file) l.tls.ca_file = file("ca.pem");
    l.tls.require_client_cert = true;
    return l;
  }

  // Connects with the device certificate, sends CONNECT+PINGREQ, returns the
  // bytes read (empty when the handshake fails).
  static std::string exchange(std::uint16_t port, bool with_cert, const std::string& alpn = "") {
    asio::io_context io;
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.load_verify_file(file("ca.pem"));
    ctx.set_verify_mode(asio::ssl::verify_peer);
    if (with_cert) {
      ctx.use_certificate_file(file("device.pem"), asio::ssl::context::pem);
      ctx.use_private_key_file(file("device.key"), asio::ssl::context::pem);
    }
    asio::ssl::stream<tcp::socket> tls(io, ctx);
    if (!alpn.empty()) {
      std::string wire = std::string(1, static_cast<char>(alpn.size())) + alpn;
      SSL_set_alpn_protos(tls.native_handle(), reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
    tls.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
    boost::system::error_code ec;
    tls.handshake(asio::ssl::stream_base::client, ec);
    if (ec) return {};
    asio::write(tls, asio::buffer(connect_and_ping), ec);
    std::string got(6, '\0');
    asio::read(tls, asio::buffer(got), ec);
    return ec ? std::string{} : got;
  }

  static std::filesystem::path dir_;
};
std::filesystem::path NetTls::dir_;

TEST_F(NetTls, MutualTlsHandsThePeerChainToTheHandler) {
  test_handler h;
  server s{opts(1)};
  const auto port = s.listen(tls_listener(false)).value();
  s.start(h);
  EXPECT_EQ(exchange(port, true, "x-amzn-mqtt-ca"), connack_and_pingresp);
  {
    std::lock_guard lock(h.mutex);
    EXPECT_GE(h.chain_size, 1u);  // the leaf, and the CA when the client sends it
  }
  EXPECT_EQ(exchange(port, false), "");  // no client certificate: handshake fails
  h.allow_tls = false;
  EXPECT_EQ(exchange(port, true), "");  // the handler refuses the certificate
  // The client can see the refusal before the server's thread has counted it.
  for (int i = 0; i < 500 && s.stats().handshake_failures < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(s.stats().handshake_failures, 2u);
  s.stop();
}

TEST_F(NetTls, StandardVerificationAgainstCaFile) {
  test_handler h;
  server s{opts(1)};
  const auto port = s.listen(tls_listener(true)).value();
  s.start(h);
  EXPECT_EQ(exchange(port, true), connack_and_pingresp);
  s.stop();
}

TEST_F(NetTls, HandshakesRefusedInsideTlsReachTheHandler) {
  test_handler h;
  server s{opts(1)};
  auto l = tls_listener(false);
  l.tls.ca_file = file("server.pem");  // not the device's CA: its chain cannot verify
  const auto port = s.listen(l).value();
  s.start(h);
  const auto refusals = [&](std::size_t n) {
    for (int i = 0; i < 500; ++i) {
      {
        std::lock_guard lock(h.mutex);
        if (h.refusals.size() >= n) return h.refusals;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::lock_guard lock(h.mutex);
    return h.refusals;
  };
  EXPECT_EQ(exchange(port, true), "");
  auto seen = refusals(1);
  ASSERT_EQ(seen.size(), 1u);
  // No issuer in ca_file, or (when the client sends its CA too) an untrusted self-signed root.
  EXPECT_TRUE(seen[0].verify_error == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
              seen[0].verify_error == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN)
      << seen[0].verify_error;
  EXPECT_EQ(seen[0].reason, X509_verify_cert_error_string(seen[0].verify_error));
  EXPECT_GE(seen[0].chain_size, 1u);     // what the client presented (its CA too, if it sends it)
  EXPECT_EQ(exchange(port, false), "");  // no certificate where one is required
  seen = refusals(2);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[1].verify_error, 0);
  EXPECT_NE(seen[1].reason.find("certificate"), std::string::npos) << seen[1].reason;
  EXPECT_EQ(seen[1].chain_size, 0u);
  s.stop();
}

TEST(NetServer, BadTlsFilesAreReported) {
  server s{opts(1)};
  auto l = on(transport::tls);
  l.tls.cert_file = "/nonexistent.pem";
  auto r = s.listen(l);
  ASSERT_FALSE(r);
  EXPECT_NE(r.describe().find("/nonexistent.pem"), std::string::npos);
}

// The bytes of round `i` of the sending test: a copied head, then a shared body
// (small ones are copied into the batch, large ones referenced), and every
// tenth round an owned buffer above the copy limit.
struct round_bytes {
  std::string head;
  shared_bytes body;
  byte_buffer owned;
};
round_bytes make_round(int i) {
  round_bytes r;
  r.head.assign(5, static_cast<char>('a' + i % 26));
  auto body =
      std::make_shared<byte_buffer>(i % 3 == 0 ? 5000 : 100, static_cast<std::byte>(i % 253));
  r.body = std::move(body);
  if (i % 10 == 0) r.owned.assign(3000, static_cast<std::byte>(i % 7));
  return r;
}

// On CONNECT, another thread sends `rounds` rounds while the connection's own
// thread answers PINGREQs: both end up in the stream, each in its order.
struct sending_handler : handler {
  static constexpr int rounds = 400;
  void on_packet(const connection_ptr& c, const mqtt::packet_view& p) override {
    if (std::holds_alternative<mqtt::connect_view>(p)) {
      sender = std::thread([c] {
        for (int i = 0; i < rounds; ++i) {
          auto r = make_round(i);
          c->send(as_bytes(r.head), r.body);
          if (!r.owned.empty()) c->send(std::move(r.owned));
        }
      });
    }
  }
  std::thread sender;
};

TEST(NetServer, SendsFromAnotherThreadArriveWholeAndInOrder) {
  sending_handler h;
  server s{opts(2)};
  const auto port = s.listen(on(transport::tcp)).value();
  s.start(h);
  std::string expected;
  for (int i = 0; i < sending_handler::rounds; ++i) {
    auto r = make_round(i);
    expected += r.head;
    expected += std::string(as_string_view(*r.body));
    expected += std::string(as_string_view(r.owned));
  }
  asio::io_context io;
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(sock, asio::buffer(connect_and_ping.substr(0, 16)));
  EXPECT_EQ(read_exactly(sock, expected.size()), expected);
  h.sender.join();
  s.stop();
}

// Many packets in one write, and a packet that straddles many reads, over TCP
// (reads into the thread's buffer) and WebSocket (the connection's own buffer,
// grown and shrunk).
struct counting_handler : test_handler {
  void on_packet(const connection_ptr& c, const mqtt::packet_view& p) override {
    if (const auto* pub = std::get_if<mqtt::publish_view>(&p)) {
      std::lock_guard lock(mutex);
      payloads.push_back(pub->payload.size());
    }
    test_handler::on_packet(c, p);
  }
  std::vector<std::size_t> payloads;
};

std::string big_publish(std::size_t payload) {
  mqtt::publish p;
  p.topic = "t/big";
  p.payload.assign(payload, std::byte{'x'});
  byte_buffer out;
  EXPECT_FALSE(mqtt::encode(mqtt::packet{p}, mqtt::protocol_version::v3_1_1, out));
  return std::string(as_string_view(out));
}

TEST(NetServer, PipelinedAndStraddlingPacketsOverTcp) {
  counting_handler h;
  server s{opts(1)};
  const auto port = s.listen(on(transport::tcp)).value();
  s.start(h);
  asio::io_context io;
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  std::string pings;
  for (int i = 0; i < 500; ++i) pings += std::string("\xC0\x00", 2);
  asio::write(sock, asio::buffer(connect_and_ping.substr(0, 16) + pings));
  const auto big = big_publish(200 * 1024);
  for (std::size_t at = 0; at < big.size(); at += 1000) {
    asio::write(sock, asio::buffer(big.data() + at, std::min<std::size_t>(1000, big.size() - at)));
  }
  asio::write(sock, asio::buffer(big_publish(10) + std::string("\xC0\x00", 2)));
  std::string expected = std::string("\x20\x02\x00\x00", 4);
  for (int i = 0; i < 501; ++i) expected += std::string("\xD0\x00", 2);
  EXPECT_EQ(read_exactly(sock, expected.size()), expected);
  std::lock_guard lock(h.mutex);
  EXPECT_EQ(h.payloads, (std::vector<std::size_t>{200 * 1024, 10}));
  s.stop();
}

TEST(NetServer, PipelinedAndStraddlingPacketsOverWebSocket) {
  counting_handler h;
  server s{opts(1)};
  const auto port = s.listen(on(transport::ws)).value();
  s.start(h);
  asio::io_context io;
  boost::beast::websocket::stream<tcp::socket> ws(io);
  ws.next_layer().connect({asio::ip::make_address("127.0.0.1"), port});
  ws.set_option(boost::beast::websocket::stream_base::decorator(
      [](auto& req) { req.set(boost::beast::http::field::sec_websocket_protocol, "mqtt"); }));
  ws.handshake("127.0.0.1", "/mqtt");
  ws.binary(true);
  std::string pings;
  for (int i = 0; i < 100; ++i) pings += std::string("\xC0\x00", 2);
  ws.write(asio::buffer(connect_and_ping.substr(0, 16) + pings));
  ws.write(asio::buffer(big_publish(100 * 1024)));  // one frame, many reads
  ws.write(asio::buffer(big_publish(10) + std::string("\xC0\x00", 2)));
  std::string expected = std::string("\x20\x02\x00\x00", 4);
  for (int i = 0; i < 101; ++i) expected += std::string("\xD0\x00", 2);
  std::string got;
  while (got.size() < expected.size()) {
    boost::beast::flat_buffer b;
    ws.read(b);
    got += boost::beast::buffers_to_string(b.data());
  }
  EXPECT_EQ(got, expected);
  std::lock_guard lock(h.mutex);
  EXPECT_EQ(h.payloads, (std::vector<std::size_t>{100 * 1024, 10}));
  s.stop();
}

// A client that never reads while the server keeps sending: past
// max_write_queue_bytes the connection is closed instead of growing.
struct flooding_handler : test_handler {
  void on_packet(const connection_ptr& c, const mqtt::packet_view& p) override {
    if (!std::holds_alternative<mqtt::connect_view>(p)) return;
    auto chunk = std::make_shared<const byte_buffer>(64 * 1024, std::byte{'f'});
    for (int i = 0; i < 1024; ++i) c->send({}, chunk);  // 64 MiB
  }
};

TEST(NetServer, SlowReaderIsClosedPastTheWriteQueueLimit) {
  flooding_handler h;
  auto o = opts(1);
  o.max_write_queue_bytes = 1u << 20;
  server s{o};
  const auto port = s.listen(on(transport::tcp)).value();
  s.start(h);
  asio::io_context io;
  tcp::socket sock(io);
  sock.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(sock, asio::buffer(connect_and_ping.substr(0, 16)));
  for (int i = 0; i < 2000 && h.closed.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(h.closed.load(), 1);
  s.stop();
}

}  // namespace
}  // namespace iotblocks::net
