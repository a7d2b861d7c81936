// `iotblocks mqtt decode`: MQTT bytes -> one JSON object per packet per line.
// `iotblocks mqtt encode`: those JSON lines -> MQTT bytes.
// Decode's output feeds encode: `iotblocks mqtt decode < a | iotblocks mqtt encode`
// gives back `a`. Errors name the byte offset (decode) or line (encode) and,
// for decode, the MQTT 5 reason code a server would send.
#include "command.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/mqtt.hpp>

#include <fmt/format.h>

#include <cstdio>
#include <optional>
#include <string>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

struct options {
  std::string protocol;  // empty: from the CONNECT (server) or 5
  std::string role = "server";
  std::string input;
  bool hex = false;
  std::size_t max_packet_size = 1024 * 1024;
};

std::optional<mqtt::protocol_version> parse_protocol(const std::string& s) {
  if (s.empty()) return std::nullopt;
  if (s == "3.1") return mqtt::protocol_version::v3_1;
  if (s == "3.1.1" || s == "4") return mqtt::protocol_version::v3_1_1;
  if (s == "5" || s == "5.0") return mqtt::protocol_version::v5;
  throw error(usage, "--protocol must be 3.1, 3.1.1 or 5");
}

byte_buffer read_bytes(const options& o) {
  std::string text = read_input(o.input);
  if (!o.hex) return to_buffer(text);
  std::string digits;
  for (char c : text) {
    if (c != ' ' && c != '\n' && c != '\r' && c != '\t') digits.push_back(c);
  }
  auto bytes = from_hex(digits);
  if (!bytes) throw error(bad_input, "input is not hex: " + bytes.describe());
  return std::move(bytes).value();
}

void decode(const options& o) {
  const byte_buffer bytes = read_bytes(o);
  mqtt::decoder d{o.role == "client" ? mqtt::role::client : mqtt::role::server};
  if (auto v = parse_protocol(o.protocol)) d.protocol(*v);
  d.max_packet_size(o.max_packet_size);
  std::error_code ec;
  d.put_all(
      bytes,
      [&](const mqtt::packet_view& p) {
        print_line(mqtt::to_json(p, d.protocol().value_or(mqtt::protocol_version::v5)));
      },
      ec);
  std::fflush(stdout);
  if (ec) throw error(bad_input, "mqtt decode: " + d.last_failure().describe());
  if (d.in_packet()) {
    throw error(bad_input, fmt::format("mqtt decode: input ends inside the packet at byte {}",
                                       d.packet_offset()));
  }
}

void encode(const options& o) {
  const std::string text = read_input(o.input);
  mqtt::protocol_version v = parse_protocol(o.protocol).value_or(mqtt::protocol_version::v5);
  byte_buffer out;
  std::size_t line_no = 0;
  for (std::size_t a = 0; a < text.size();) {
    std::size_t b = text.find('\n', a);
    if (b == std::string::npos) b = text.size();
    const std::string_view line = std::string_view{text}.substr(a, b - a);
    a = b + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    auto p = mqtt::packet_from_json(line);
    if (!p) throw error(bad_input, fmt::format("mqtt encode: line {}: {}", line_no, p.describe()));
    if (const auto* c = std::get_if<mqtt::connect>(&*p)) v = c->version;
    if (auto ec = mqtt::encode(*p, v, out)) {
      throw error(bad_input, fmt::format("mqtt encode: line {}: {}", line_no, ec.message()));
    }
  }
  if (o.hex) {
    print_line(to_hex(out));
  } else {
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
}

void setup(CLI::App& root) {
  auto* mqtt = root.add_subcommand("mqtt", "MQTT 3.1/3.1.1/5.0 packets: decode and encode");
  mqtt->require_subcommand(1);
  auto opts = std::make_shared<options>();
  auto common = [&opts](CLI::App* cmd) {
    cmd->add_option("--protocol", opts->protocol,
                    "3.1, 3.1.1 or 5 (default: from the CONNECT, else 5)");
    cmd->add_flag("--hex", opts->hex, "bytes as hex text instead of binary");
    cmd->add_option("input", opts->input, "input file (default: standard input)");
  };
  auto* dec = mqtt->add_subcommand(
      "decode",
      "Decode MQTT bytes; print each packet as one JSON line (errors: byte offset and "
      "MQTT 5 reason code)");
  common(dec);
  dec->add_option("--role", opts->role,
                  "the decoding side: server (reads client packets) or client")
      ->check(CLI::IsMember({"server", "client"}));
  dec->add_option("--max-packet-size", opts->max_packet_size, "largest packet accepted in bytes")
      ->capture_default_str();
  dec->callback([opts] { decode(*opts); });
  auto* enc = mqtt->add_subcommand(
      "encode", "Encode JSON packets (one per line, as decode prints them) to MQTT bytes");
  common(enc);
  enc->callback([opts] { encode(*opts); });
}

const registrar reg{20, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
