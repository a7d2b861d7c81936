// MQTT 5 properties and the trace id reach the rule SQL on the engine path:
// a PUBLISH's properties (mqtt::properties_view) into rules::message with
// set_mqtt_properties(), then get_mqtt_property(), get_user_properties() and
// traceid() in the SELECT and in a substitution template.
#include <iotblocks/mqtt/properties.hpp>
#include <iotblocks/rules/mqtt_properties.hpp>

#include "rules/util.hpp"

#include <gtest/gtest.h>

namespace iotblocks::rules {
namespace {

using testing::fast_options;
using testing::recording_publisher;

TEST(MqttProperties, ReachTheRuleSqlAndTemplates) {
  auto pub = std::make_shared<recording_publisher>();
  auto o = fast_options();
  o.publisher = pub;
  engine e{o};
  auto added = e.add_rule("props", R"({"sql":"SELECT get_mqtt_property('content_type') AS ct, )"
                                   R"(get_mqtt_property('format_indicator') AS fi, )"
                                   R"(get_mqtt_property('response_topic') AS rt, )"
                                   R"(get_user_properties('site') AS site, traceid() AS trace )"
                                   R"(FROM 'in'","actions":[{"republish":{"topic":)"
                                   R"("out/${get(get_user_properties('site'), 0)}"}}]})");
  ASSERT_TRUE(added) << added.describe();
  mqtt::properties props;
  props.set_content_type("application/json")
      .set_payload_format_indicator(1)
      .set_response_topic("replies/7")
      .add_user_property("site", "berlin")
      .add_user_property("site", "paris")
      .add_user_property("other", "x");
  std::vector<sql::user_property> users;
  message m;
  m.topic = "in";
  m.payload = as_bytes("{}");
  set_mqtt_properties(m, props.view(), users);
  m.trace_id = "5e8c1b1e-1b2c-4d3e-8f40-000000000001";
  ASSERT_EQ(e.dispatch(m), 1u);
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(pub->got.wait_for(1));
  const auto got = pub->got.items();
  EXPECT_EQ(got[0].topic, "out/berlin");
  EXPECT_EQ(got[0].payload,
            R"({"ct":"application/json","fi":"UTF8_DATA","rt":"replies/7",)"
            R"("site":["berlin","paris"],"trace":"5e8c1b1e-1b2c-4d3e-8f40-000000000001"})");
}

TEST(MqttProperties, AbsentPropertiesAreUndefined) {
  auto pub = std::make_shared<recording_publisher>();
  auto o = fast_options();
  o.publisher = pub;
  engine e{o};
  ASSERT_TRUE(e.add_rule("props", R"({"sql":"SELECT get_mqtt_property('content_type') AS ct, )"
                                  R"(get_user_properties() AS all, traceid() AS trace, 1 AS one )"
                                  R"(FROM 'in'","actions":[{"republish":{"topic":"out"}}]})"));
  std::vector<sql::user_property> users{{"stale", "left from an earlier message"}};
  message m;
  m.topic = "in";
  m.payload = as_bytes("{}");
  set_mqtt_properties(m, mqtt::properties{}.view(), users);
  EXPECT_TRUE(users.empty());
  ASSERT_EQ(e.dispatch(m), 1u);
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(pub->got.wait_for(1));
  EXPECT_EQ(pub->got.items()[0].payload, R"({"one":1})");  // all Undefined: left out
}

}  // namespace
}  // namespace iotblocks::rules
