// AWS cron expressions and maintenance windows: what parses into which minutes, the next
// match (bounded), faults with their positions, when a window is open, and the JSON shape.
#include <iotblocks/jobs/cron.hpp>
#include <iotblocks/jobs/error.hpp>
#include <iotblocks/jobs/scheduling.hpp>

#include <gtest/gtest.h>

#include "jobs/clock.hpp"

#include <chrono>
#include <string>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;
using iotblocks::jobs::testing::t0;  // Tuesday 2023-11-14T22:13:20Z

std::int64_t at(const char* s) { return parse_date_time(s).value(); }

std::optional<std::int64_t> next(const char* expr, std::int64_t t) {
  auto c = parse_cron(expr);
  EXPECT_TRUE(c) << expr << ": " << c.describe();
  return c ? next_match(*c, t) : std::nullopt;
}

TEST(Cron, FieldsParseIntoBitSets) {
  auto c = parse_cron("cron(0,30 22 ? * MON-FRI *)");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->minutes, (1ull << 0) | (1ull << 30));
  EXPECT_EQ(c->hours, 1u << 22);
  EXPECT_TRUE(c->any_day);
  EXPECT_FALSE(c->any_weekday);
  EXPECT_EQ(c->weekdays, 0b0111'1100) << "MON (2) to FRI (6)";
  EXPECT_EQ(c->months, 0b1'1111'1111'1110);
  EXPECT_TRUE(c->years.all());
  EXPECT_EQ(parse_cron("0,30 22 ? * mon-fri *").value(), *c) << "no wrapper, lower-case names";
  auto s = parse_cron("cron(*/20 1-7/3 1,L JAN-MAR/2 ? 2024-2026)");
  ASSERT_TRUE(s) << s.describe();
  EXPECT_EQ(s->minutes, (1ull << 0) | (1ull << 20) | (1ull << 40));
  EXPECT_EQ(s->hours, (1u << 1) | (1u << 4) | (1u << 7));
  EXPECT_EQ(s->days, 1u << 1);
  EXPECT_TRUE(s->last_day);
  EXPECT_EQ(s->months, (1u << 1) | (1u << 3));
  EXPECT_EQ(s->years.count(), 3u);
  EXPECT_TRUE(s->years.test(2024 - 1970));
}

TEST(Cron, NextMatchInUtc) {
  EXPECT_EQ(next("cron(0 0 * * ? *)", t0), at("2023-11-15T00:00"));
  EXPECT_EQ(next("cron(0 0 * * ? *)", at("2023-11-15T00:00")), at("2023-11-15T00:00"))
      << "a match at t itself";
  EXPECT_EQ(next("cron(0 0 * * ? *)", at("2023-11-15T00:00") + 1), at("2023-11-16T00:00"));
  EXPECT_EQ(next("cron(*/15 * * * ? *)", t0), at("2023-11-14T22:15"));
  EXPECT_EQ(next("cron(0 22 ? * MON-FRI *)", t0), at("2023-11-15T22:00")) << "Wednesday";
  EXPECT_EQ(next("cron(0 22 ? * SAT,SUN *)", t0), at("2023-11-18T22:00"));
  EXPECT_EQ(next("cron(30 1 L * ? *)", t0), at("2023-11-30T01:30")) << "last day of month";
  EXPECT_EQ(next("cron(30 1 L 2 ? *)", t0), at("2024-02-29T01:30")) << "leap year";
  EXPECT_EQ(next("cron(0 12 ? * 6#2 *)", t0), at("2023-12-08T12:00")) << "second Friday";
  EXPECT_EQ(next("cron(0 12 ? * 2L *)", t0), at("2023-11-27T12:00")) << "last Monday";
  EXPECT_EQ(next("cron(0 0 1 JAN ? *)", t0), at("2024-01-01T00:00"));
  EXPECT_EQ(next("cron(0 0 29 2 ? *)", t0), at("2024-02-29T00:00"));
  EXPECT_EQ(next("cron(0 0 31 4 ? *)", t0), std::nullopt) << "April has no 31st";
  EXPECT_EQ(next("cron(0 0 1 1 ? 2023)", t0), std::nullopt) << "a year already past";
  EXPECT_EQ(next("cron(0 0 1 1 ? 2199)", t0), std::nullopt)
      << "beyond cron_search_days: none, and the search stops";
  EXPECT_EQ(next("cron(0 0 1 1 ? 2028)", t0), at("2028-01-01T00:00")) << "within the span";
}

TEST(Cron, NearestWeekday) {
  auto c = parse_cron("cron(0 9 15W * ? *)");
  ASSERT_TRUE(c) << c.describe();
  EXPECT_EQ(c->nearest_weekday, 15);
  EXPECT_EQ(c->days, 0u);
  EXPECT_TRUE(parse_cron("cron(0 9 lw * ? *)").value().last_weekday_of_month);
  EXPECT_EQ(next("cron(0 9 15W * ? *)", t0), at("2023-11-15T09:00")) << "a Wednesday itself";
  EXPECT_EQ(next("cron(0 9 18W * ? *)", t0), at("2023-11-17T09:00")) << "Saturday: Friday";
  EXPECT_EQ(next("cron(0 9 19W * ? *)", t0), at("2023-11-20T09:00")) << "Sunday: Monday";
  EXPECT_EQ(next("cron(0 9 1W 6 ? *)", t0), at("2024-06-03T09:00"))
      << "Saturday the 1st: Monday the 3rd, not the month before";
  EXPECT_EQ(next("cron(0 9 31W 3 ? *)", t0), at("2024-03-29T09:00"))
      << "Sunday the 31st: Friday the 29th, not the month after";
  EXPECT_EQ(next("cron(0 9 LW * ? *)", t0), at("2023-11-30T09:00")) << "Thursday the 30th";
  EXPECT_EQ(next("cron(0 9 LW 12 ? *)", t0), at("2023-12-29T09:00")) << "Sunday the 31st";
  EXPECT_EQ(next("cron(0 9 LW 9 ? *)", t0), at("2024-09-30T09:00")) << "Monday the 30th";
  EXPECT_EQ(next("cron(0 9 30W 2 ? *)", t0), std::nullopt) << "February has no 30th";
}

TEST(Cron, FaultsNameTheFieldAndPosition) {
  struct bad_case {
    std::string text;
    std::size_t offset;
    const char* says;
  };
  const bad_case cases[] = {
      {"", 0, "empty"},
      {"cron(0 0 * * * *)", 9, "exactly one of Day-of-month and Day-of-week must be ?"},
      {"cron(0 0 ? * ? *)", 9, "exactly one of"},
      {"cron(0 0 15W,16 * ? *)", 11, "Day-of-month: W takes one day, not a list"},
      {"cron(0 0 1,LW * ? *)", 12, "W takes one day, not a list"},
      {"cron(0 0 1-15W * ? *)", 10, "W takes one day, not a range or a step"},
      {"cron(0 0 15WX * ? *)", 12, "unexpected character after W"},
      {"cron(0 0 32W * ? *)", 9, "Day-of-month: 32 is out of range 1-31"},
      {"cron(0 0 W * ? *)", 9, "Day-of-month: a value is missing"},
      {"cron(0 0 ? * 2W *)", 14, "unexpected character 'W'"},
      {"cron(60 0 * * ? *)", 5, "Minutes: 60 is out of range 0-59"},
      {"cron(0 24 * * ? *)", 7, "Hours: 24 is out of range"},
      {"cron(0 0 0 * ? *)", 9, "Day-of-month: 0 is out of range 1-31"},
      {"cron(0 0 L * ? 1969)", 15, "Year: 1969 is out of range 1970-2199"},
      {"cron(0 0 * * ? *", 16, "without its closing )"},
      {"cron(0 0 * * ?)", 14, "expected 6 fields"},
      {"cron(0 0 * * ? * 1)", 17, "more than 6 fields"},
      {"cron(0 0 ? * MON#6 *)", 17, "# takes 1-5"},
      {"cron(0 0 ? * FOO *)", 13, "unknown name FOO"},
      {"cron(0 0 ? JAN-FOO * *)", 15, "unknown name FOO"},
      {"cron(0 0 ? * MONDAY *)", 16, "unexpected character 'D'"},
      {"cron(0 5-2 * * ? *)", 9, "a range ends before it starts"},
      {"cron(0 0/0 * * ? *)", 9, "/ takes a step of at least 1"},
      {"cron(0 0 ?,1 * * *)", 9, "? stands alone"},
      {"cron(? 0 * * ? *)", 5, "? is only for the day fields"},
      {"cron(L 0 * * ? *)", 5, "L is only for the day fields"},
      {"cron(0 0 1, * ? *)", 11, "empty item"},
      {"cron(0 0 x * ? *)", 9, "unexpected character 'x'"},
      {"cron(0 0 * JAN ? 12345)", 17, "number too long"},
      {"cron(0 0 ? * 2L3 *)", 15, "unexpected character after L"},
      {"cron(0 *5 * * ? *)", 8, "unexpected character after *"},
      {"cron(0 0 * * ? *)" + std::string(240, ' '), 256, "longer than 256"},
  };
  for (const auto& c : cases) {
    auto r = parse_cron(c.text);
    ASSERT_FALSE(r) << c.text;
    EXPECT_EQ(r.error(), error::invalid_request) << c.text;
    EXPECT_NE(std::string(r.fail().message.view()).find(c.says), std::string::npos)
        << c.text << ": " << r.fail().message.view();
    EXPECT_EQ(r.fail().where.offset, c.offset) << c.text << ": " << r.fail().message.view();
  }
}

scheduling_config windows(std::vector<maintenance_window> w, std::int64_t start = 0) {
  scheduling_config c;
  c.start_time = start;
  c.maintenance_windows = std::move(w);
  return c;
}

TEST(MaintenanceWindows, OpenFromTheirStartForTheirDuration) {
  const auto c = windows({{"cron(0 22 * * ? *)", 60}});
  EXPECT_TRUE(rollout_open(c, at("2023-11-14T22:00")));
  EXPECT_TRUE(rollout_open(c, at("2023-11-14T22:59") + 59));
  EXPECT_FALSE(rollout_open(c, at("2023-11-14T23:00")));
  EXPECT_FALSE(rollout_open(c, at("2023-11-14T22:00") - 1));
  EXPECT_TRUE(rollout_open(scheduling_config{}, t0)) << "no windows: always";
  // A window open across midnight, and two windows: open in either.
  const auto two = windows({{"cron(30 23 ? * TUE *)", 60}, {"cron(0 12 ? * FRI *)", 1}});
  EXPECT_TRUE(rollout_open(two, at("2023-11-15T00:29")));
  EXPECT_FALSE(rollout_open(two, at("2023-11-15T00:30")));
  EXPECT_TRUE(rollout_open(two, at("2023-11-17T12:00") + 59));
  EXPECT_FALSE(rollout_open(two, at("2023-11-17T12:01")));
  // Not before the job's startTime, even inside a window.
  const auto later = windows({{"cron(0 22 * * ? *)", 60}}, at("2023-11-14T22:30"));
  EXPECT_FALSE(rollout_open(later, at("2023-11-14T22:29")));
  EXPECT_TRUE(rollout_open(later, at("2023-11-14T22:30")));
  EXPECT_EQ(next_window_start(later, t0), at("2023-11-15T22:00"))
      << "the window open at startTime started before it";
  EXPECT_EQ(next_window_starts(two, t0, 3),
            (std::vector<std::int64_t>{at("2023-11-14T23:30"), at("2023-11-17T12:00"),
                                       at("2023-11-21T23:30")}));
  EXPECT_EQ(next_window_starts(windows({{"cron(0 0 1 1 ? 2023)", 5}}), t0).size(), 0u);
}

TEST(MaintenanceWindows, TheJsonShape) {
  auto c = parse_scheduling_config(
      R"j({"startTime":"2023-11-14T23:00","maintenanceWindows":[)j"
      R"j({"startTime":"cron(0 22 ? * MON-FRI *)","durationInMinutes":120},)j"
      R"j({"startTime":"cron(0 3 L * ? *)","durationInMinutes":1430}]})j");
  ASSERT_TRUE(c) << c.describe();
  ASSERT_EQ(c->maintenance_windows.size(), 2u);
  EXPECT_EQ(c->maintenance_windows[0].start_time, "cron(0 22 ? * MON-FRI *)");
  EXPECT_EQ(c->maintenance_windows[1].duration_minutes, 1430);
  EXPECT_EQ(parse_scheduling_config(to_json(*c)).value(), *c);
  EXPECT_EQ(check_scheduling(*c, t0 - 3600), "");
  auto w =
      parse_maintenance_windows(R"j([{"startTime":"cron(0 0 * * ? *)","durationInMinutes":5}])j");
  ASSERT_TRUE(w) << w.describe();
  EXPECT_EQ(w->at(0).duration_minutes, 5);
  const std::string daily = R"j({"startTime":"cron(0 0 * * ? *)","durationInMinutes":5})j";
  std::string eleven = R"j({"maintenanceWindows":[)j" + daily;
  for (int i = 1; i < 11; ++i) eleven += "," + daily;
  eleven += "]}";
  auto one = [](std::string item) { return R"j({"maintenanceWindows":[)j" + item + "]}"; };
  const std::pair<std::string, const char*> bad[] = {
      {one(R"j({"startTime":"cron(0 0 15W,L * ? *)","durationInMinutes":5})j"),
       "schedulingConfig.maintenanceWindows[0].startTime: cron: Day-of-month: W takes one day, "
       "not a list (character 12)"},
      {one(R"j({"startTime":"cron(0 0 * * ? *)","durationInMinutes":0})j"),
       "schedulingConfig.maintenanceWindows[0].durationInMinutes: required, an integer 1-1430"},
      {one(R"j({"startTime":"cron(0 0 * * ? *)","durationInMinutes":1431})j"),
       "schedulingConfig.maintenanceWindows[0].durationInMinutes: required, an integer 1-1430"},
      {one(R"j({"durationInMinutes":5})j"),
       "schedulingConfig.maintenanceWindows[0].startTime: required, a cron expression"},
      {one(daily + R"j(,{"startTime":"cron(0 0 * * ? *)","durationInMinutes":5,"x":1})j"),
       "schedulingConfig.maintenanceWindows[1]: unknown member x"},
      {R"j({"maintenanceWindows":{}})j", "schedulingConfig.maintenanceWindows: expected an array"},
      {eleven, "schedulingConfig.maintenanceWindows: at most 10 windows"},
  };
  for (const auto& [text, says] : bad) {
    auto r = parse_scheduling_config(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), error::invalid_request);
    EXPECT_EQ(r.fail().message.view(), says);
  }
  // A library caller's own config is checked too.
  EXPECT_EQ(check_scheduling(windows({{"cron(0 0 * * * *)", 5}}), t0),
            "schedulingConfig.maintenanceWindows[0].startTime: cron: exactly one of "
            "Day-of-month and Day-of-week must be ? (character 10)");
  EXPECT_EQ(check_scheduling(windows({{"cron(0 0 * * ? *)", 1431}}), t0),
            "schedulingConfig.maintenanceWindows[0].durationInMinutes: expected 1-1430");
}

}  // namespace
