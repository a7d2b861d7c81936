// MQTT 5 properties: every typed accessor, order, replacement, robustness;
// reason codes and the error category.
#include "support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotblocks::mqtt {
namespace {

TEST(MqttProperties, EveryPropertyHasATypedAccessor) {
  const byte_buffer corr = test::hex("00ff");
  properties p;
  p.set_payload_format_indicator(1)
      .set_message_expiry_interval(3600)
      .set_content_type("application/json")
      .set_response_topic("r/t")
      .set_correlation_data(corr)
      .add_subscription_identifier(7)
      .add_subscription_identifier(268'435'455)
      .set_session_expiry_interval(86400)
      .set_assigned_client_identifier("auto-1")
      .set_server_keep_alive(30)
      .set_authentication_method("SCRAM-SHA-256")
      .set_authentication_data(corr)
      .set_request_problem_information(false)
      .set_will_delay_interval(5)
      .set_request_response_information(true)
      .set_response_information("resp/")
      .set_server_reference("other:1883")
      .set_reason_string("because")
      .set_receive_maximum(10)
      .set_topic_alias_maximum(20)
      .set_topic_alias(3)
      .set_maximum_qos(1)
      .set_retain_available(true)
      .add_user_property("a", "1")
      .set_maximum_packet_size(65536)
      .set_wildcard_subscription_available(false)
      .set_subscription_identifiers_available(true)
      .set_shared_subscription_available(true)
      .add_user_property("a", "2");

  // The same getters on the owning list and on a view of its bytes.
  auto check = [&](const auto& q) {
    EXPECT_EQ(q.payload_format_indicator(), 1);
    EXPECT_EQ(q.message_expiry_interval(), 3600u);
    EXPECT_EQ(q.content_type(), "application/json");
    EXPECT_EQ(q.response_topic(), "r/t");
    EXPECT_EQ(to_hex(*q.correlation_data()), "00ff");
    EXPECT_EQ(q.subscription_identifier(), 7u);
    std::vector<std::uint32_t> ids;
    for (const property& x : q.subscription_identifiers()) ids.push_back(x.number);
    EXPECT_EQ(ids, (std::vector<std::uint32_t>{7, 268'435'455}));
    EXPECT_EQ(q.session_expiry_interval(), 86400u);
    EXPECT_EQ(q.assigned_client_identifier(), "auto-1");
    EXPECT_EQ(q.server_keep_alive(), 30);
    EXPECT_EQ(q.authentication_method(), "SCRAM-SHA-256");
    EXPECT_EQ(to_hex(*q.authentication_data()), "00ff");
    EXPECT_EQ(q.request_problem_information(), false);
    EXPECT_EQ(q.will_delay_interval(), 5u);
    EXPECT_EQ(q.request_response_information(), true);
    EXPECT_EQ(q.response_information(), "resp/");
    EXPECT_EQ(q.server_reference(), "other:1883");
    EXPECT_EQ(q.reason_string(), "because");
    EXPECT_EQ(q.receive_maximum(), 10);
    EXPECT_EQ(q.topic_alias_maximum(), 20);
    EXPECT_EQ(q.topic_alias(), 3);
    EXPECT_EQ(q.maximum_qos(), 1);
    EXPECT_EQ(q.retain_available(), true);
    EXPECT_EQ(q.maximum_packet_size(), 65536u);
    EXPECT_EQ(q.wildcard_subscription_available(), false);
    EXPECT_EQ(q.subscription_identifiers_available(), true);
    EXPECT_EQ(q.shared_subscription_available(), true);
    std::vector<std::string> users;
    for (const property& u : q.user_properties()) {
      users.push_back(std::string{u.name} + "=" + std::string{u.value});
    }
    EXPECT_EQ(users, (std::vector<std::string>{"a=1", "a=2"}));
    EXPECT_EQ(q.count(), 29u);
  };
  check(p);
  check(p.view());
  EXPECT_FALSE(properties{}.content_type().has_value());
}

TEST(MqttProperties, SettersReplaceAndKeepUserPropertyOrder) {
  properties p;
  p.add_user_property("k", "1").set_content_type("a").add_user_property("k", "2");
  p.set_content_type("b");
  std::vector<std::string> order;
  for (const property& x : p.all()) order.emplace_back(name(x.id));
  EXPECT_EQ(order, (std::vector<std::string>{"user_property", "user_property", "content_type"}));
  EXPECT_EQ(p.content_type(), "b");
  p.remove(property_id::user_property);
  EXPECT_EQ(p.count(), 1u);
#if IOTBLOCKS_EXCEPTIONS
  EXPECT_THROW(p.set_reason_string(std::string(65536, 'x')), std::system_error);
  EXPECT_EQ(p.count(), 1u);  // unchanged after the refused setter
#else
  EXPECT_DEATH(p.set_reason_string(std::string(65536, 'x')), "");
#endif
}

TEST(MqttProperties, ViewsOfGarbageStopSafely) {
  // 0x26 user property whose value runs past the end; then an unknown id.
  for (const char* h : {"26000161", "7f", "0b80808080", "03ffff", ""}) {
    const auto bytes = test::hex(h);
    properties_view v{bytes};
    EXPECT_EQ(v.count(), 0u) << h;
    EXPECT_FALSE(v.content_type());
  }
}

TEST(MqttProperties, NamesAndIds) {
  for (std::uint8_t id = 0; id < 0x80; ++id) {
    if (!is_known(id)) continue;
    const auto p = static_cast<property_id>(id);
    EXPECT_EQ(property_from_name(name(p)), p);
  }
  EXPECT_EQ(type_of(property_id::subscription_identifier), property_type::variable_byte_integer);
  EXPECT_EQ(type_of(property_id::user_property), property_type::utf8_string_pair);
  EXPECT_FALSE(is_known(0x00));
  EXPECT_FALSE(is_known(0x04));
  EXPECT_FALSE(property_from_name("nope"));
}

TEST(MqttReasonCodes, NamesMappingAndCategory) {
  EXPECT_EQ(name(reason_code::malformed_packet), "Malformed Packet");
  EXPECT_EQ(name(reason_code::wildcard_subscriptions_not_supported),
            "Wildcard Subscriptions not supported");
  int defined = 0;
  for (int c = 0; c < 256; ++c) defined += is_defined(static_cast<std::uint8_t>(c)) ? 1 : 0;
  EXPECT_EQ(defined, 43);  // the 43 distinct codes of MQTT 5 table 2-6
  EXPECT_EQ(to_connect_return_code(reason_code::unsupported_protocol_version),
            connect_return_code::unacceptable_protocol_version);
  EXPECT_EQ(to_connect_return_code(reason_code::client_identifier_not_valid),
            connect_return_code::identifier_rejected);
  EXPECT_EQ(to_connect_return_code(reason_code::server_busy),
            connect_return_code::server_unavailable);
  const std::error_code ec = error::packet_too_large;
  EXPECT_STREQ(ec.category().name(), "iotblocks.mqtt");
  EXPECT_EQ(to_reason_code(ec), reason_code::packet_too_large);
  EXPECT_EQ(to_reason_code(std::error_code{}), reason_code::success);
  EXPECT_EQ(to_reason_code(make_error_code(std::errc::io_error)), reason_code::malformed_packet);
}

}  // namespace
}  // namespace iotblocks::mqtt
