// Metric store and alarms with an injected clock: the greenhouse's two alarms
// over 15 periods of 60 s, without sleeping.
#include <iotblocks/rules/metrics.hpp>

#include "rules/util.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace iotblocks::rules {
namespace {

using namespace std::chrono_literals;
using testing::data;

constexpr std::int64_t t0 = 1'700'000'040'000;  // 08:14:00 UTC, on a minute boundary
const char* ns = "Greenhouse Lux Sensors";

struct greenhouse : ::testing::Test {
  manual_clock clock{from_unix_ms(t0)};
  metric_store store{clock};
  std::vector<alarm_transition> seen;

  void SetUp() override {
    ASSERT_TRUE(
        store.put_alarm(alarm_definition::from_json(data("sunshade_open_alarm.json")).value()));
    ASSERT_TRUE(
        store.put_alarm(alarm_definition::from_json(data("sunshade_close_alarm.json")).value()));
    store.on_transition([this](const alarm_transition& t) { seen.push_back(t); });
  }
  // One reading per minute (at +30 s), then the minute ends and alarms are evaluated.
  void minute(double shade_position) {
    clock.advance(30s);
    ASSERT_TRUE(store.put({ns, "ShadePosition", shade_position, "Count", clock.now_ms()}));
    clock.advance(30s);
    store.evaluate();
  }
  alarm_state state(const char* name) { return store.describe_alarm(name)->state; }
};

TEST_F(greenhouse, StartsWithInsufficientData) {
  EXPECT_EQ(state("Trigger_SunShade_Open"), alarm_state::insufficient_data);
  store.evaluate();
  EXPECT_EQ(state("Trigger_SunShade_Open"), alarm_state::insufficient_data);
  EXPECT_TRUE(seen.empty());
}

TEST_F(greenhouse, OpenAlarmAfterFifteenConsecutiveBrightMinutes) {
  for (int i = 0; i < 14; ++i) {
    minute(1);
    EXPECT_NE(state("Trigger_SunShade_Open"), alarm_state::alarm) << "minute " << i;
  }
  EXPECT_EQ(state("Trigger_SunShade_Open"), alarm_state::ok);
  EXPECT_EQ(state("Trigger_SunShade_Close"), alarm_state::ok);
  minute(1);
  EXPECT_EQ(state("Trigger_SunShade_Open"), alarm_state::alarm);
  EXPECT_EQ(state("Trigger_SunShade_Close"), alarm_state::ok);
  ASSERT_FALSE(seen.empty());
  const auto& last = seen.back();
  EXPECT_EQ(last.alarm->name, "Trigger_SunShade_Open");
  EXPECT_EQ(last.from, alarm_state::ok);
  EXPECT_EQ(last.to, alarm_state::alarm);
  EXPECT_EQ(last.actions(),
            std::vector<std::string>{"arn:aws:sns:us-east-1:000000000000:Sunshades"});
  const std::string j = last.to_json();
  EXPECT_NE(j.find(R"("NewStateValue":"ALARM")"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("OldStateValue":"OK")"), std::string::npos) << j;
  EXPECT_NE(j.find(R"("ComparisonOperator":"GreaterThanOrEqualToThreshold")"), std::string::npos);
  EXPECT_NE(j.find(R"("EvaluationPeriods":15)"), std::string::npos);
}

TEST_F(greenhouse, CloseAlarmAfterFifteenDarkMinutesAndOpenAlarmReturnsToOk) {
  for (int i = 0; i < 15; ++i) minute(1);
  ASSERT_EQ(state("Trigger_SunShade_Open"), alarm_state::alarm);
  minute(0);  // one dark minute: the open alarm is no longer 15/15
  EXPECT_EQ(state("Trigger_SunShade_Open"), alarm_state::ok);
  EXPECT_EQ(state("Trigger_SunShade_Close"), alarm_state::ok);
  for (int i = 0; i < 13; ++i) minute(0);
  EXPECT_EQ(state("Trigger_SunShade_Close"), alarm_state::ok);
  minute(0);
  EXPECT_EQ(state("Trigger_SunShade_Close"), alarm_state::alarm);
  EXPECT_EQ(seen.back().actions(),
            std::vector<std::string>{"arn:aws:sns:us-east-1:000000000000:SunshadesClose"});
}

TEST_F(greenhouse, BrightAndDarkInOneMinuteSumsToOne) {
  // Two readings in the same minute: Sum 1 >= 1 still breaches the open alarm.
  for (int i = 0; i < 15; ++i) {
    clock.advance(10s);
    ASSERT_TRUE(store.put({ns, "ShadePosition", 1, "Count", clock.now_ms()}));
    ASSERT_TRUE(store.put({ns, "ShadePosition", 0, "Count", clock.now_ms()}));
    clock.advance(50s);
  }
  store.evaluate();
  EXPECT_EQ(state("Trigger_SunShade_Open"), alarm_state::alarm);
}

TEST_F(greenhouse, NoDataAgainMeansInsufficientData) {
  for (int i = 0; i < 15; ++i) minute(1);
  ASSERT_EQ(state("Trigger_SunShade_Open"), alarm_state::alarm);
  clock.advance(15min);
  store.evaluate();
  EXPECT_EQ(state("Trigger_SunShade_Open"), alarm_state::insufficient_data);
}

TEST(MetricStore, Statistics) {
  manual_clock clock{from_unix_ms(t0)};
  metric_store store{clock};
  for (double v : {1.0, 5.0, 3.0}) ASSERT_TRUE(store.put({"ns", "m", v, "Count", t0 + 1000}));
  ASSERT_TRUE(store.put({"ns", "m", 10, "Count", t0 + 61'000}));
  auto sum = store.statistics("ns", "m", t0, t0 + 120'000, 60, statistic::sum);
  ASSERT_EQ(sum.size(), 2u);
  EXPECT_EQ(sum[0].value, 9);
  EXPECT_EQ(sum[1].value, 10);
  EXPECT_EQ(store.statistics("ns", "m", t0, t0 + 60'000, 60, statistic::average)[0].value, 3);
  EXPECT_EQ(store.statistics("ns", "m", t0, t0 + 60'000, 60, statistic::minimum)[0].value, 1);
  EXPECT_EQ(store.statistics("ns", "m", t0, t0 + 60'000, 60, statistic::maximum)[0].value, 5);
  EXPECT_EQ(store.statistics("ns", "m", t0, t0 + 60'000, 60, statistic::sample_count)[0].value, 3);
  EXPECT_EQ(store.statistics("ns", "m", t0, t0 + 120'000, 120, statistic::sum)[0].value, 19);
  EXPECT_EQ(store.put({"ns", "m", std::nan(""), "Count", t0}).error(), error::invalid_metric);
  EXPECT_EQ(store.put({"", "m", 1, "Count", t0}).error(), error::invalid_metric);
  store.max_metrics(1);
  EXPECT_EQ(store.put({"ns", "other", 1, "Count", t0}).error(), error::limit_exceeded);
}

TEST(MetricStore, TreatMissingData) {
  manual_clock clock{from_unix_ms(t0)};
  metric_store store{clock};
  alarm_definition a;
  a.name = "a";
  a.metric_namespace = "ns";
  a.metric_name = "m";
  a.stat = statistic::maximum;
  a.evaluation_periods = 3;
  a.op = comparison::greater;
  a.threshold = 10;
  for (auto [treat, expected] : {std::pair{missing_data::missing, alarm_state::insufficient_data},
                                 std::pair{missing_data::not_breaching, alarm_state::ok},
                                 std::pair{missing_data::breaching, alarm_state::alarm},
                                 std::pair{missing_data::ignore, alarm_state::insufficient_data}}) {
    a.treat_missing = treat;
    ASSERT_TRUE(store.put_alarm(a));
    store.evaluate();
    EXPECT_EQ(store.describe_alarm("a")->state, expected) << to_string(treat);
  }
  // M of N: 2 of 3 breaching periods.
  a.treat_missing = missing_data::missing;
  a.datapoints_to_alarm = 2;
  ASSERT_TRUE(store.put_alarm(a));
  for (double v : {20.0, 1.0, 20.0}) {
    ASSERT_TRUE(store.put({"ns", "m", v, "None", clock.now_ms()}));
    clock.advance(60s);
  }
  store.evaluate();
  EXPECT_EQ(store.describe_alarm("a")->state, alarm_state::alarm);
}

TEST(AlarmDefinition, FromJsonErrors) {
  EXPECT_EQ(alarm_definition::from_json(R"({"AlarmName":"a"})").error(), error::invalid_alarm);
  EXPECT_EQ(alarm_definition::from_json(
                R"({"AlarmName":"a","Namespace":"n","MetricName":"m","Period":30})")
                .error(),
            error::invalid_alarm);
  EXPECT_EQ(alarm_definition::from_json(
                R"({"AlarmName":"a","Namespace":"n","MetricName":"m","Statistic":"p99"})")
                .error(),
            error::invalid_alarm);
  EXPECT_EQ(
      alarm_definition::from_json(R"({"AlarmName":"a","Namespace":"n","MetricName":"m","Bogus":1})")
          .error(),
      error::invalid_alarm);
  auto ok = alarm_definition::from_json(
      R"({"AlarmName":"a","Namespace":"n","MetricName":"m","EvaluationPeriods":3,"DatapointsToAlarm":2,"TreatMissingData":"notBreaching"})");
  ASSERT_TRUE(ok) << ok.describe();
  EXPECT_EQ(ok->treat_missing, missing_data::not_breaching);
  EXPECT_EQ(ok->datapoints_to_alarm, 2u);
}

}  // namespace
}  // namespace iotblocks::rules
