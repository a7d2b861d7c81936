// The anomaly action: PEWMA per ${device} over a field, republished with the
// expected mean, spread, bounds, P and the flag; a spike is flagged.
#include <iotblocks/rules/engine.hpp>

#include "core/recorder.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <string>

namespace iotblocks::rules {
namespace {

// The number after "key": in a flat JSON text, NaN when absent.
double number_after(const std::string& text, const std::string& key) {
  const auto at = text.find("\"" + key + "\":");
  return at == std::string::npos ? std::nan("")
                                 : std::strtod(text.c_str() + at + key.size() + 3, nullptr);
}

using iotblocks::testing::recorder;

class payload_recorder final : public publisher {
 public:
  result<void> publish(std::string_view topic, std::string_view payload, std::uint8_t,
                       bool) override {
    got.add(std::string(topic) + " " + std::string(payload));
    return {};
  }
  recorder<std::string> got;
};

TEST(AnomalyAction, FlagsASpikePerDevice) {
  auto pub = std::make_shared<payload_recorder>();
  engine_options o;
  o.tick_interval = std::chrono::milliseconds(0);
  o.publisher = pub;
  engine e{o};
  ASSERT_TRUE(e.add_rule("wind", R"({"sql":"SELECT device, wind_speed FROM 'weather/+/wind'",
      "actions":[{"anomaly":{"detector":"pewma","key":"${device}","fields":["wind_speed"],
                             "republishTopic":"anom/${topic(2)}"}}]})"));
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    const double v = (i == n - 1) ? 90.0 : 10.0 + (i % 5) * 0.5;
    const std::string payload = R"({"device":"station-36","wind_speed":)" + std::to_string(v) + "}";
    message m;
    m.topic = "weather/station-36/wind";
    m.payload = as_bytes(payload);
    m.timestamp_ms = 1'700'000'000'000 + i * 60'000;
    e.dispatch(m);
  }
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(pub->got.wait_for(n));
  const auto all = pub->got.items();
  const std::string& last = all.back();
  EXPECT_EQ(last.rfind("anom/station-36 ", 0), 0u) << last;
  EXPECT_NE(last.find(R"("anomaly":{"wind_speed":{"value":90)"), std::string::npos) << last;
  EXPECT_NE(last.find(R"("anomaly":true)"), std::string::npos) << last;
  EXPECT_NE(last.find(R"("mean":)"), std::string::npos);
  EXPECT_NE(last.find(R"("upper":)"), std::string::npos);
  // The score is in [0, 1] and near 1 for the spike; raw keeps PEWMA's |z|, past its 3.25 flag.
  EXPECT_GE(number_after(last, "score"), 0.9) << last;
  EXPECT_LE(number_after(last, "score"), 1.0) << last;
  EXPECT_GT(number_after(last, "raw"), 3.25) << last;
  EXPECT_NE(all[100].find(R"("anomaly":false)"), std::string::npos) << all[100];
  EXPECT_EQ(e.metrics("wind")->actions_succeeded, static_cast<std::uint64_t>(n));
}

// The same with the NAB-default detector (ensemble, anomaly likelihood on): no
// bounds in its output, the spike flagged with a score near 1.
TEST(AnomalyAction, FlagsASpikeWithTheEnsemble) {
  auto pub = std::make_shared<payload_recorder>();
  engine_options o;
  o.tick_interval = std::chrono::milliseconds(0);
  o.publisher = pub;
  engine e{o};
  ASSERT_TRUE(e.add_rule("wind", R"({"sql":"SELECT device, wind_speed FROM 'weather/+/wind'",
      "actions":[{"anomaly":{"detector":"ensemble","key":"${device}","fields":["wind_speed"],
                             "republishTopic":"anom/${topic(2)}"}}]})"));
  const int n = 400;
  for (int i = 0; i < n; ++i) {
    const double v = (i == n - 1) ? 90.0 : 10.0 + (i % 5) * 0.5;
    const std::string payload = R"({"device":"station-36","wind_speed":)" + std::to_string(v) + "}";
    message m;
    m.topic = "weather/station-36/wind";
    m.payload = as_bytes(payload);
    m.timestamp_ms = 1'700'000'000'000 + i * 60'000;
    e.dispatch(m);
  }
  ASSERT_TRUE(e.flush());
  ASSERT_TRUE(pub->got.wait_for(n));
  const auto all = pub->got.items();
  const std::string& last = all.back();
  EXPECT_NE(last.find(R"("anomaly":true)"), std::string::npos) << last;
  EXPECT_EQ(last.find(R"("upper":)"), std::string::npos) << last;
  EXPECT_GE(number_after(last, "score"), 0.9) << last;
  EXPECT_LE(number_after(last, "score"), 1.0) << last;
  for (int i = 160; i < n - 1; ++i) {
    EXPECT_NE(all[static_cast<std::size_t>(i)].find(R"("anomaly":false)"), std::string::npos)
        << i << " " << all[static_cast<std::size_t>(i)];
  }
}

TEST(AnomalyAction, ParameterErrors) {
  engine e{engine_options{}};
  EXPECT_EQ(
      e.add_rule(
           "a",
           R"({"sql":"SELECT * FROM 'x'","actions":[{"anomaly":{"key":"k","republishTopic":"t"}}]})")
          .error(),
      error::invalid_action);
  EXPECT_EQ(
      e.add_rule(
           "a",
           R"({"sql":"SELECT * FROM 'x'","actions":[{"anomaly":{"detector":"nope","key":"k","fields":["v"],"republishTopic":"t"}}]})")
          .error(),
      error::invalid_action);
}

}  // namespace
}  // namespace iotblocks::rules
