// `iotblocks mqtt decode` and `mqtt encode` end to end: the real binary on the
// bundled example and on an MQTT 5 session from the mqtt-packet vectors.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

struct output {
  std::string text;
  int status;
};

output run_shell(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {"", -1};
  std::string text;
  std::array<char, 4096> buf;
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
    text.append(buf.data(), n);
  const int status = ::pclose(p);
  return {text, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

output run(const std::string& args) { return run_shell(IOTBLOCKS_CLI_PATH " " + args); }

// printf 'input' | iotblocks args 2>&1 (popen runs /bin/sh, which has no here-strings).
output pipe(const std::string& input, const std::string& args) {
  return run_shell("printf '" + input + "' | " + IOTBLOCKS_CLI_PATH + " " + args + " 2>&1");
}

std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(MqttCli, DecodesTheGreenhouseExample) {
  const auto out = run("mqtt decode examples/data/mqtt/greenhouse_publish.bin");
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.text, slurp("tests/data/mqtt/cli_greenhouse.jsonl"));
}

TEST(MqttCli, EncodeGivesBackTheBytes) {
  const auto out = run("mqtt encode < tests/data/mqtt/cli_greenhouse.jsonl");
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.text, slurp("examples/data/mqtt/greenhouse_publish.bin"));
}

TEST(MqttCli, DecodeFeedsEncodeForAnMqtt5Session) {
  const auto out = run("mqtt decode --hex tests/data/mqtt/cli_v5_session.hex | " IOTBLOCKS_CLI_PATH
                       " mqtt encode --hex");
  EXPECT_EQ(out.status, 0);
  std::string expected;
  for (char c : slurp("tests/data/mqtt/cli_v5_session.hex")) {
    if (c != '\n') expected.push_back(c);
  }
  EXPECT_EQ(out.text, expected + "\n");
}

TEST(MqttCli, ErrorsNameTheOffsetAndReasonCode) {
  auto out = run("mqtt decode --hex --protocol 3.1.1 2>&1 < /dev/null");
  EXPECT_EQ(out.status, 0);
  EXPECT_EQ(out.text, "");
  out = pipe("c000 3005 0003 612f23", "mqtt decode --hex --protocol 3.1.1");
  EXPECT_EQ(out.status, 3);
  EXPECT_EQ(out.text,
            "{\"type\":\"pingreq\"}\niotblocks: mqtt decode: topic name invalid (topic name), "
            "reason code 0x90 Topic Name invalid at byte 4\n");
  out = run("mqtt decode examples/data/mqtt/greenhouse_publish.bin --max-packet-size 100 2>&1");
  EXPECT_EQ(out.status, 3);
  EXPECT_NE(out.text.find("reason code 0x95 Packet too large at byte 37"), std::string::npos)
      << out.text;
  out = pipe("2003 00", "mqtt decode --role client --hex");
  EXPECT_EQ(out.status, 3);
  EXPECT_EQ(out.text, "iotblocks: mqtt decode: input ends inside the packet at byte 0\n");
  out = pipe("{\"type\":\"pingreq\"}\\n{\"type\":\"publish\",\"qos\":7}", "mqtt encode");
  EXPECT_EQ(out.status, 3);
  EXPECT_EQ(out.text, "iotblocks: mqtt encode: line 2: \"qos\" must be an integer from 0 to 2\n");
}

}  // namespace
