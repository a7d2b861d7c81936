// Writes tests/data/mqtt/iotblocks_vectors.json: every packet described in
// tests/data/mqtt/iotblocks_packets.json, encoded by iotblocks. Node's
// check_iotblocks_vectors.js then decodes the bytes with npm mqtt-packet.
//
//   build/mqtt/tests/mqtt/mqtt_make_vectors tests/data/mqtt/iotblocks_packets.json
//       > tests/data/mqtt/iotblocks_vectors.json   (one command line)
#include "support.hpp"

#include <cstdio>
#include <exception>
#include <string>

int main(int argc, char** argv) {
  using namespace iotblocks;
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s iotblocks_packets.json\n", argv[0]);
    return 2;
  }
  try {
    const auto doc = mqtt::test::load_json(argv[1]);
    std::string out = "{\"generator\": \"tests/mqtt/make_vectors.cpp\",\n \"vectors\": [\n";
    bool first = true;
    for (const auto& c : doc["cases"].GetArray()) {
      const std::string text = json::write(c["json"]);
      auto p = mqtt::packet_from_json(text);
      if (!p) throw std::runtime_error(std::string{c["name"].GetString()} + ": " + p.describe());
      byte_buffer bytes;
      const auto version = mqtt::test::version_from(c["protocol"].GetString());
      if (auto ec = mqtt::encode(*p, version, bytes)) throw std::system_error(ec);
      out += first ? "  " : ",\n  ";
      first = false;
      out += "{\"name\": \"" + std::string{c["name"].GetString()} + "\", \"protocol\": \"" +
             c["protocol"].GetString() + "\", \"role\": \"" + c["role"].GetString() +
             "\", \"hex\": \"" + to_hex(bytes) + "\",\n   \"json\": " + text + "}";
    }
    out += "\n ]\n}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mqtt_make_vectors: %s\n", e.what());
    return 1;
  }
}
