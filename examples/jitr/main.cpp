// jitr: the device side of just-in-time registration with your own CA. On its
// first run a device makes a key and a certificate signed by your CA (what a
// factory line does), then connects to the gateway over mutual TLS and reports.
// The gateway has never seen this certificate: it registers it PENDING_ACTIVATION,
// refuses the handshake and publishes `$aws/events/certificates/registered/<caId>`;
// a rule activates it and attaches a policy, and the next connection goes through.
//
//   jitr HOST:PORT SERVER_CA CA_CERT CA_KEY THING [DIR]
//     -> "certificate <id> new|existing", then "connected", "reported <topic>" (exit 0)
//        or "refused: <reason>" (exit 2)
//
// Files: DIR/THING.pem (device certificate followed by CA_CERT) and DIR/THING.key.
#include <iotblocks/net/mqtt_client.hpp>
#include <iotblocks/x509/issue.hpp>

#include <boost/asio/io_context.hpp>

#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

using namespace iotblocks;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

int fail(const std::string& what) {
  std::fprintf(stderr, "jitr: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6 || argc > 7) {
    return fail("usage: jitr HOST:PORT SERVER_CA CA_CERT CA_KEY THING [DIR]");
  }
  const std::string address = argv[1], server_ca = argv[2], thing = argv[5];
  const fs::path dir = argc == 7 ? argv[6] : ".";
  const auto colon = address.rfind(':');
  unsigned port = 0;
  const char* end = address.data() + address.size();
  if (colon == std::string::npos ||
      std::from_chars(address.data() + colon + 1, end, port).ptr != end || port == 0 ||
      port > 65535) {
    return fail("HOST:PORT expected, got " + address);
  }
  const fs::path cert_file = dir / (thing + ".pem"), key_file = dir / (thing + ".key");

  // 1. A key and a certificate from the user's CA, made once (CN = the thing name).
  const auto ca_pem = read_file(argv[3]);
  auto ca = x509::certificate::from_pem(ca_pem);
  if (!ca) return fail(std::string(argv[3]) + ": " + ca.describe());
  bool made = false;
  if (!fs::exists(cert_file) || !fs::exists(key_file)) {
    auto ca_key = x509::private_key::from_pem(read_file(argv[4]));
    if (!ca_key) return fail(std::string(argv[4]) + ": " + ca_key.describe());
    auto key = x509::private_key::generate(x509::key_algorithm::p256);
    if (!key) return fail(key.describe());
    auto cert =
        x509::issue({.subject = {{{"CN", thing}}}, .client_auth = true}, *key, &*ca, &*ca_key);
    if (!cert) return fail(cert.describe());
    write_file(key_file, key->pem());
    fs::permissions(key_file, fs::perms::owner_read | fs::perms::owner_write);
    write_file(cert_file, cert->pem() + ca->pem());  // the chain, as AWS IoT asks for JITR
    made = true;
  }
  auto chain = x509::parse_pem_chain(read_file(cert_file));
  if (!chain || chain->empty()) return fail(cert_file.string() + ": no certificate");
  std::printf("certificate %s %s\n", chain->front().id().c_str(), made ? "new" : "existing");

  // 2. Connect over mutual TLS with the thing name as client id, report, disconnect.
  boost::asio::io_context io;
  net::mqtt_client_options o;
  o.host = address.substr(0, colon);
  o.port = static_cast<std::uint16_t>(port);
  o.client_id = thing;
  o.version = mqtt::protocol_version::v5;
  o.tls.enabled = true;
  o.tls.ca_file = server_ca;
  o.tls.cert_file = cert_file.string();
  o.tls.key_file = key_file.string();
  net::mqtt_client client{io.get_executor(), o};
  const std::string topic = "devices/" + thing + "/report";
  int status = 1;
  client.on_connect([&](std::error_code ec, bool) {
    if (ec) {
      std::printf("refused: %s\n", ec.message().c_str());
      status = 2;
      io.stop();
      return;
    }
    std::printf("connected\n");
    client.publish(topic, to_buffer(R"({"thing":")" + thing + R"(","state":"online"})"), 1, false,
                   [&](std::error_code pec) {
                     if (pec) {
                       std::printf("publish failed: %s\n", pec.message().c_str());
                     } else {
                       std::printf("reported %s\n", topic.c_str());
                       status = 0;
                     }
                     client.disconnect([&](std::error_code) { io.stop(); });
                   });
  });
  client.connect();
  io.run_for(std::chrono::seconds(30));
  if (status == 1) std::printf("no answer from %s\n", address.c_str());
  return status;
}
