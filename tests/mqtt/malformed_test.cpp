// Every malformed or forbidden packet of tests/data/mqtt/malformed.json is
// refused with the right error, MQTT 5 reason code and byte offset, whether it
// arrives in one span or one byte at a time.
#include "support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace iotblocks::mqtt {
namespace {

const std::map<std::string, error, std::less<>>& error_names() {
  static const std::map<std::string, error, std::less<>> names = [] {
    std::map<std::string, error, std::less<>> m;
#define IOTBLOCKS_ERROR(e) m.emplace(#e, error::e)
    IOTBLOCKS_ERROR(remaining_length_invalid);
    IOTBLOCKS_ERROR(packet_type_reserved);
    IOTBLOCKS_ERROR(header_flags_invalid);
    IOTBLOCKS_ERROR(qos_invalid);
    IOTBLOCKS_ERROR(truncated);
    IOTBLOCKS_ERROR(trailing_bytes);
    IOTBLOCKS_ERROR(utf8_invalid);
    IOTBLOCKS_ERROR(variable_integer_invalid);
    IOTBLOCKS_ERROR(connect_flags_invalid);
    IOTBLOCKS_ERROR(will_flags_invalid);
    IOTBLOCKS_ERROR(password_without_username);
    IOTBLOCKS_ERROR(connack_flags_invalid);
    IOTBLOCKS_ERROR(property_invalid);
    IOTBLOCKS_ERROR(subscription_options_invalid);
    IOTBLOCKS_ERROR(packet_unexpected);
    IOTBLOCKS_ERROR(connect_expected);
    IOTBLOCKS_ERROR(connect_repeated);
    IOTBLOCKS_ERROR(dup_with_qos0);
    IOTBLOCKS_ERROR(packet_id_zero);
    IOTBLOCKS_ERROR(topic_missing);
    IOTBLOCKS_ERROR(property_duplicate);
    IOTBLOCKS_ERROR(property_value_invalid);
    IOTBLOCKS_ERROR(auth_data_without_method);
    IOTBLOCKS_ERROR(auth_method_missing);
    IOTBLOCKS_ERROR(subscriptions_missing);
    IOTBLOCKS_ERROR(subscription_qos_invalid);
    IOTBLOCKS_ERROR(retain_handling_invalid);
    IOTBLOCKS_ERROR(no_local_on_shared);
    IOTBLOCKS_ERROR(reason_code_invalid);
    IOTBLOCKS_ERROR(session_present_invalid);
    IOTBLOCKS_ERROR(property_sender_invalid);
    IOTBLOCKS_ERROR(response_topic_invalid);
    IOTBLOCKS_ERROR(protocol_unsupported);
    IOTBLOCKS_ERROR(client_id_invalid);
    IOTBLOCKS_ERROR(topic_filter_invalid);
    IOTBLOCKS_ERROR(topic_name_invalid);
    IOTBLOCKS_ERROR(topic_alias_invalid);
    IOTBLOCKS_ERROR(packet_too_large);
    IOTBLOCKS_ERROR(limit_exceeded);
    IOTBLOCKS_ERROR(payload_format_invalid);
#undef IOTBLOCKS_ERROR
    return m;
  }();
  return names;
}

struct malformed_case {
  std::string name;
  std::optional<protocol_version> version;
  role self = role::server;
  decoder_limits limits;
  byte_buffer bytes;
  error expected{};
  int reason = 0;
  std::uint64_t offset = 0;
};

std::vector<malformed_case> load() {
  std::vector<malformed_case> out;
  const auto doc = test::load_json("tests/data/mqtt/malformed.json");
  for (const auto& c : doc["cases"].GetArray()) {
    malformed_case m;
    m.name = c["name"].GetString();
    if (c["protocol"].IsString()) m.version = test::version_from(c["protocol"].GetString());
    m.self = test::role_from(c["role"].GetString());
    if (const auto* l = json::find(c, "limits")) {
      for (auto it = l->MemberBegin(); it != l->MemberEnd(); ++it) {
        const std::string_view k = json::view(it->name);
        const auto& v = it->value;
        if (k == "max_packet_size")
          m.limits.max_packet_size = v.GetUint();
        else if (k == "max_topic_length")
          m.limits.max_topic_length = v.GetUint();
        else if (k == "max_topic_levels")
          m.limits.max_topic_levels = v.GetUint();
        else if (k == "max_properties")
          m.limits.max_properties = v.GetUint();
        else if (k == "max_user_properties")
          m.limits.max_user_properties = v.GetUint();
        else if (k == "max_subscriptions")
          m.limits.max_subscriptions = v.GetUint();
        else if (k == "topic_alias_maximum")
          m.limits.topic_alias_maximum = static_cast<std::uint16_t>(v.GetUint());
        else if (k == "validate_payload_utf8")
          m.limits.validate_payload_utf8 = v.GetBool();
        else
          test::fatal(m.name + ": unknown limit " + std::string{k});
      }
    }
    m.bytes = test::hex(c["hex"].GetString());
    const auto e = error_names().find(std::string_view{c["error"].GetString()});
    if (e == error_names().end()) test::fatal(m.name + ": unknown error");
    m.expected = e->second;
    m.reason = c["reason"].GetInt();
    m.offset = c["offset"].GetUint64();
    out.push_back(std::move(m));
  }
  return out;
}

decoder make_decoder(const malformed_case& c) {
  decoder d{c.self};
  if (c.version) d.protocol(*c.version);
  const auto& l = c.limits;
  d.max_packet_size(l.max_packet_size)
      .max_topic_length(l.max_topic_length)
      .max_topic_levels(l.max_topic_levels)
      .max_properties(l.max_properties)
      .max_user_properties(l.max_user_properties)
      .max_subscriptions(l.max_subscriptions)
      .topic_alias_maximum(l.topic_alias_maximum)
      .validate_payload_utf8(l.validate_payload_utf8);
  return d;
}

// Feeds `chunk` bytes at a time; returns the first error other than need_more.
std::error_code feed(decoder& d, bytes_view in, std::size_t chunk) {
  std::error_code ec;
  while (!in.empty()) {
    const std::size_t n = d.put(in.first(std::min(chunk, in.size())), ec);
    if (ec && ec != error::need_more) return ec;
    in = in.subspan(n);
  }
  return ec;
}

class Malformed : public testing::TestWithParam<malformed_case> {};

TEST_P(Malformed, RefusedWithReasonCodeAndOffset) {
  const malformed_case& c = GetParam();
  for (std::size_t chunk : {c.bytes.size(), std::size_t{1}}) {
    decoder d = make_decoder(c);
    const std::error_code ec = feed(d, c.bytes, chunk);
    EXPECT_EQ(ec, c.expected) << "chunk " << chunk << ": " << ec.message() << " | "
                              << d.last_failure().describe();
    EXPECT_EQ(static_cast<int>(d.reason()), c.reason) << "chunk " << chunk;
    EXPECT_EQ(to_reason_code(ec), d.reason());
    EXPECT_EQ(d.error_offset(), c.offset)
        << "chunk " << chunk << ": " << d.last_failure().describe();
    const failure f = d.last_failure();
    EXPECT_EQ(f.where.offset, c.offset);
    EXPECT_NE(f.message.view().find("reason code 0x"), std::string::npos) << f.message;
    // The error sticks until reset().
    std::error_code again;
    EXPECT_EQ(d.put(c.bytes, again), 0u);
    EXPECT_EQ(again, c.expected);
  }
}

std::string malformed_name(const testing::TestParamInfo<malformed_case>& c) { return c.param.name; }

INSTANTIATE_TEST_SUITE_P(Spec, Malformed, testing::ValuesIn(load()), malformed_name);

}  // namespace
}  // namespace iotblocks::mqtt
