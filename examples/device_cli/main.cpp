// device_cli: try a running gateway from the command line, in the spirit of
// AWS's "ELF" client. It creates a thing with its certificate and policy
// through the admin REST API, sends messages over MQTT on mutual TLS with that
// certificate, subscribes, reads and updates the thing's shadow, and cleans up.
//
//   device_cli [--admin URL] [--token T] [--mqtt HOST:PORT] [--dir DIR] COMMAND ...
//     create THING            policy elf_policy (made if missing) + certificate -> DIR
//     send THING N [TOPIC]    N messages on elf/THING or TOPIC (QoS 1), prints "sent N"
//     subscribe THING [N] [S] elf/# as THING-sub; one line per message; stops after
//                             N messages or S seconds (default 10)
//     shadow THING get        prints the shadow document
//     shadow THING update J   J = {"state":{...}}; prints the accepted document
//     cleanup THING           detaches, deactivates and deletes the certificate, deletes
//                             the thing and the local files
//
// Defaults: --admin http://127.0.0.1:8080, --token from $IOTBLOCKS_ADMIN_TOKEN,
// --mqtt 127.0.0.1:8883, --dir . (DIR/THING.pem, THING.key, THING.id, ca.pem).
// Exit codes: 0 done, 1 failed, 2 bad command line.
#include "admin_api.hpp"
#include "mqtt_session.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr const char* policy_name = "elf_policy";

// A thing's certificate (CN = thing name) may connect as THING or THING-*,
// publish on elf/THING, receive anything under elf/, and use its own shadow.
constexpr const char* policy_document = R"({"Version": "2012-10-17", "Statement": [
  {"Effect": "Allow", "Action": "iot:Connect", "Resource": [
    "arn:aws:iot:*:*:client/${iot:Certificate.Subject.CommonName}",
    "arn:aws:iot:*:*:client/${iot:Certificate.Subject.CommonName}-*"]},
  {"Effect": "Allow", "Action": "iot:Publish", "Resource": [
    "arn:aws:iot:*:*:topic/elf/${iot:Certificate.Subject.CommonName}",
    "arn:aws:iot:*:*:topic/$aws/things/${iot:Certificate.Subject.CommonName}/shadow/*"]},
  {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": [
    "arn:aws:iot:*:*:topicfilter/elf/*",
    "arn:aws:iot:*:*:topicfilter/$aws/things/${iot:Certificate.Subject.CommonName}/shadow/*"]},
  {"Effect": "Allow", "Action": "iot:Receive", "Resource": [
    "arn:aws:iot:*:*:topic/elf/*",
    "arn:aws:iot:*:*:topic/$aws/things/${iot:Certificate.Subject.CommonName}/shadow/*"]}]})";

struct settings {
  std::string admin = "http://127.0.0.1:8080";
  std::string token;
  std::string host = "127.0.0.1";
  std::uint16_t port = 8883;
  fs::path dir = ".";
};

int fail(const std::string& what, int code = 1) {
  std::fprintf(stderr, "device_cli: %s\n", what.c_str());
  return code;
}

void print(const std::string& line) {
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

bool write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
  return static_cast<bool>(out.flush());
}

// create: the policy once, then a certificate for the thing (the gateway makes
// the thing if it is missing and attaches both); the key is shown only once.
int create(const settings& s, const std::string& thing) {
  elf::admin_api api{s.admin, s.token};
  if (auto got = api.call("GET", std::string("/policies/") + policy_name); got.status == 404) {
    auto put = api.call("PUT", std::string("/policies/") + policy_name, policy_document);
    if (put.status != 200) return fail("create policy: " + put.describe());
  }
  auto cert = api.call("POST", "/things/" + thing + "/certificate",
                       std::string(R"({"policy":")") + policy_name + "\"}");
  if (cert.status != 200) return fail("create certificate: " + cert.describe());
  const auto id = cert.field("certificateId");
  fs::create_directories(s.dir);
  if (!write_file(s.dir / (thing + ".pem"), cert.field("certificatePem")) ||
      !write_file(s.dir / (thing + ".key"), cert.field("privateKey")) ||
      !write_file(s.dir / (thing + ".id"), id) ||
      !write_file(s.dir / "ca.pem", cert.field("caPem"))) {
    return fail("cannot write the certificate files in " + s.dir.string());
  }
  fs::permissions(s.dir / (thing + ".key"), fs::perms::owner_read | fs::perms::owner_write);
  print("created " + thing + " certificate " + id + " policy " + policy_name);
  return 0;
}

elf::mqtt_session open_session(const settings& s, const std::string& thing,
                               const std::string& client_id) {
  iotblocks::net::mqtt_client_options o;
  o.host = s.host;
  o.port = s.port;
  o.client_id = client_id;
  o.version = iotblocks::mqtt::protocol_version::v5;  // refusals come with a reason code
  o.tls.enabled = true;
  o.tls.ca_file = (s.dir / "ca.pem").string();
  o.tls.cert_file = (s.dir / (thing + ".pem")).string();
  o.tls.key_file = (s.dir / (thing + ".key")).string();
  return elf::mqtt_session{o};
}

int send(const settings& s, const std::string& thing, long n, std::string topic) {
  auto m = open_session(s, thing, thing);
  if (auto c = m.connect(); !c) return fail(c.describe());
  if (topic.empty()) topic = "elf/" + thing;
  for (long i = 1; i <= n; ++i) {
    const auto body = R"({"thing":")" + thing + R"(","seq":)" + std::to_string(i) + "}";
    if (auto p = m.publish(topic, body); !p) return fail(p.describe());
  }
  m.disconnect();
  print("sent " + std::to_string(n) + " on " + topic);
  return 0;
}

int subscribe(const settings& s, const std::string& thing, long n, long seconds) {
  auto m = open_session(s, thing, thing + "-sub");
  if (auto c = m.connect(); !c) return fail(c.describe());
  if (auto r = m.subscribe("elf/#"); !r) return fail(r.describe());
  print("subscribed elf/#");
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  long got = 0;
  while (got < n || n == 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left <= 0ms) break;
    auto msg = m.next(left);
    if (!msg) break;
    ++got;
    print(msg->topic + " " + msg->payload);
  }
  m.disconnect();
  print("received " + std::to_string(got));
  return 0;
}

// shadow get|update over MQTT: subscribe to the answers, publish the request
// with a client token, wait for accepted or rejected.
int shadow(const settings& s, const std::string& thing, const std::string& op,
           const std::string& document) {
  if (op != "get" && op != "update") return fail("shadow: get or update", 2);
  auto m = open_session(s, thing, thing);
  if (auto c = m.connect(); !c) return fail(c.describe());
  const auto base = "$aws/things/" + thing + "/shadow/" + op;
  if (auto r = m.subscribe(base + "/+"); !r) return fail(r.describe());
  std::string body = op == "get" ? R"({"clientToken":"device_cli"})" : document;
  if (op == "update" && body.find("clientToken") == std::string::npos && body.size() > 1) {
    body = R"({"clientToken":"device_cli",)" + body.substr(body.find('{') + 1);
  }
  if (auto p = m.publish(base, body); !p) return fail(p.describe());
  for (;;) {
    auto msg = m.next(10s);
    if (!msg) return fail(op + ": no answer from the shadow service");
    if (msg->topic == base + "/accepted") {
      print(msg->payload);
      break;
    }
    if (msg->topic == base + "/rejected") return fail(op + " rejected: " + msg->payload);
  }
  m.disconnect();
  return 0;
}

// cleanup: what create made, in the order the gateway accepts it.
int cleanup(const settings& s, const std::string& thing) {
  elf::admin_api api{s.admin, s.token};
  auto t = api.call("GET", "/things/" + thing);
  if (t.status != 200) return fail("thing " + thing + ": " + t.describe());
  for (const auto& id : t.strings("principals")) {
    const std::vector<std::vector<std::string>> steps = {
        {"POST", std::string("/policies/") + policy_name + "/detach",
         R"({"principal":")" + id + "\"}"},
        {"PUT", "/certificates/" + id, R"({"status":"INACTIVE"})"},
        {"DELETE", "/certificates/" + id, ""}};
    for (const auto& step : steps) {
      auto r = api.call(step[0], step[1], step[2]);
      if (r.status != 200) return fail(step[0] + " " + step[1] + ": " + r.describe());
    }
    print("deleted certificate " + id);
  }
  if (auto d = api.call("DELETE", "/things/" + thing); d.status != 200) {
    return fail("delete thing: " + d.describe());
  }
  std::error_code ec;
  for (auto ext : {".pem", ".key", ".id"}) fs::remove(s.dir / (thing + ext), ec);
  print("deleted thing " + thing);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  settings s;
  if (const char* t = std::getenv("IOTBLOCKS_ADMIN_TOKEN")) s.token = t;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--admin" && has_value) {
      s.admin = argv[++i];
    } else if (a == "--token" && has_value) {
      s.token = argv[++i];
    } else if (a == "--dir" && has_value) {
      s.dir = argv[++i];
    } else if (a == "--mqtt" && has_value) {
      const std::string hp = argv[++i];
      const auto colon = hp.rfind(':');
      if (colon == std::string::npos) return fail("--mqtt HOST:PORT", 2);
      s.host = hp.substr(0, colon);
      s.port = static_cast<std::uint16_t>(std::atoi(hp.c_str() + colon + 1));
    } else {
      args.push_back(a);
    }
  }
  const auto arg = [&](std::size_t i, const char* dflt = "") {
    return i < args.size() ? args[i] : std::string(dflt);
  };
  if (args.size() < 2) {
    return fail(
        "usage: device_cli [--admin URL] [--token T] [--mqtt HOST:PORT] [--dir DIR] "
        "create|send|subscribe|shadow|cleanup THING ...",
        2);
  }
  const auto& cmd = args[0];
  const auto& thing = args[1];
  if (cmd == "create") return create(s, thing);
  if (cmd == "send") return send(s, thing, std::atol(arg(2, "1").c_str()), arg(3));
  if (cmd == "subscribe") {
    return subscribe(s, thing, std::atol(arg(2, "0").c_str()), std::atol(arg(3, "10").c_str()));
  }
  if (cmd == "shadow") return shadow(s, thing, arg(2), arg(3, "{}"));
  if (cmd == "cleanup") return cleanup(s, thing);
  return fail("unknown command " + cmd, 2);
}
