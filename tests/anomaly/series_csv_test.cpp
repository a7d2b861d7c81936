#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/series_csv.hpp>

#include <gtest/gtest.h>

namespace iotblocks::anomaly {
namespace {

TEST(SeriesCsv, ParsesNabStyleFilesWithHeader) {
  const auto p = parse_series_csv(
                     "timestamp,value\n2014-04-01 00:00:00,20.5\r\n"
                     "2014-04-01 00:05:00,-1e3\n\n")
                     .value();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].time_ms, 1396310400000);
  EXPECT_EQ(p[0].value, 20.5);
  EXPECT_EQ(p[1].time_ms, 1396310400000 + 300000);
  EXPECT_EQ(p[1].value, -1000);
}

TEST(SeriesCsv, ValueOnlyAndHeaderlessTwoColumns) {
  auto p = parse_series_csv("1\n2.5\n\"3\"\n").value();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[2].value, 3);
  EXPECT_EQ(p[2].time_ms, 0);
  p = parse_series_csv("1700000000000, 4\n1700000001000 ,5\n").value();
  EXPECT_EQ(p[1].time_ms, 1700000001000);
  EXPECT_EQ(p[1].value, 5);
  p = parse_series_csv("value,timestamp\n7,2020-02-29T12:00:00.25Z\n").value();
  EXPECT_EQ(p[0].value, 7);
  EXPECT_EQ(p[0].time_ms, 1582977600250);
}

TEST(SeriesCsv, ErrorsCarryLineAndColumn) {
  auto r = parse_series_csv("timestamp,value\n2014-04-01 00:00:00,20\n2014-04-01 00:05:00,abc\n");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::invalid_csv);
  EXPECT_EQ(r.fail().where.line, 3u);
  EXPECT_EQ(r.fail().where.column, 21u);
  r = parse_series_csv("1,2\n3\n");
  EXPECT_EQ(r.fail().where.line, 2u);
  r = parse_series_csv("2014-02-30 00:00:00,1\n");
  EXPECT_EQ(r.error(), error::invalid_csv);
  EXPECT_NE(r.fail().message.view().find("no such date"), std::string::npos);
  EXPECT_EQ(parse_series_csv("nan\n").error(), error::invalid_csv);
  EXPECT_EQ(parse_series_csv("inf\n").error(), error::invalid_csv);
  EXPECT_EQ(parse_series_csv("a,b,c\n").error(), error::invalid_csv);
  EXPECT_EQ(parse_series_csv("\"1\n").error(), error::invalid_csv);
  EXPECT_EQ(parse_series_csv("1\n2\n3\n", {.max_rows = 2}).error(), error::too_many_rows);
  EXPECT_EQ(parse_series_csv(std::string(5000, '1'), {}).error(), error::invalid_csv);
}

TEST(SeriesCsv, Timestamps) {
  EXPECT_EQ(parse_timestamp("1970-01-01 00:00:00").value(), 0);
  EXPECT_EQ(parse_timestamp("1969-12-31 23:59:59.999").value(), -1);
  EXPECT_EQ(parse_timestamp("-5").value(), -5);
  EXPECT_EQ(parse_timestamp("2014-04-10 07:15:00.000000").value(), 1397114100000);
  EXPECT_FALSE(parse_timestamp("2014-04-10 24:00:00"));
  EXPECT_FALSE(parse_timestamp("2014-04-10 07:15:00.1234567890"));
  EXPECT_FALSE(parse_timestamp("2014-04-10 07:15:00x"));
  EXPECT_FALSE(parse_timestamp("99999999999999999999"));
  EXPECT_FALSE(parse_timestamp(""));
}

}  // namespace
}  // namespace iotblocks::anomaly
