// Time zones (system tz database) and date patterns.
#include "sql/time_format.hpp"
#include "sql/tz.hpp"

#include <gtest/gtest.h>

namespace iotblocks::sql::detail {
namespace {

TEST(SqlTime, CivilDays) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2000, 3, 1), 11017);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  std::int64_t y = 0;
  int m = 0, d = 0;
  civil_from_days(19000, y, m, d);
  EXPECT_EQ(y, 2022);
  EXPECT_EQ(m, 1);
  EXPECT_EQ(d, 8);
}

TEST(SqlTime, ZonesFromTheSystemDatabase) {
  auto paris = find_zone("Europe/Paris");
  ASSERT_TRUE(paris);
  EXPECT_EQ(paris->at(1672574400).seconds, 3600);  // 2023-01-01
  EXPECT_EQ(paris->at(1688212800).seconds, 7200);  // 2023-07-01
  EXPECT_EQ(paris->at(1688212800).abbreviation, "CEST");
  EXPECT_EQ(paris->at(4118000000).seconds, 7200);  // 2100-06: from the POSIX rule
  EXPECT_EQ(paris->at(4102488000).seconds, 3600);  // 2100-01
  auto ny = find_zone("America/New_York");
  ASSERT_TRUE(ny);
  // 2023-03-12 02:30 local does not exist (spring forward): shifted by an hour.
  const std::int64_t gap = (days_from_civil(2023, 3, 12)) * 86400 + 2 * 3600 + 1800;
  EXPECT_EQ(ny->to_utc(gap), gap + 5 * 3600);  // 03:30 EDT
  // 2023-11-05 01:30 local happens twice: the earlier (EDT) one.
  const std::int64_t overlap = days_from_civil(2023, 11, 5) * 86400 + 3600 + 1800;
  EXPECT_EQ(ny->to_utc(overlap), overlap + 4 * 3600);
  EXPECT_FALSE(find_zone("Nowhere/Atlantis"));
  EXPECT_FALSE(find_zone("America"));  // a directory of the database, not a zone
  EXPECT_FALSE(find_zone("../../etc/passwd"));
  EXPECT_FALSE(find_zone("/etc/passwd"));
}

TEST(SqlTime, FixedOffsets) {
  for (auto [id, secs] : std::vector<std::pair<std::string, int>>{{"UTC", 0},
                                                                  {"GMT", 0},
                                                                  {"Z", 0},
                                                                  {"UTC+01:00", 3600},
                                                                  {"GMT-5", -18000},
                                                                  {"+0530", 19800},
                                                                  {"-08:00", -28800},
                                                                  {"UT+3", 10800}}) {
    auto z = find_zone(id);
    ASSERT_TRUE(z) << id;
    EXPECT_EQ(z->at(0).seconds, secs) << id;
  }
  EXPECT_FALSE(find_zone("UTC+25:00"));
}

TEST(SqlTime, JodaFormat) {
  auto utc = find_zone("UTC");
  EXPECT_EQ(format_joda("yyyy-MM-dd'T'HH:mm:ss.SSSZZ", 1481825251155, *utc).value(),
            "2016-12-15T18:07:31.155+00:00");
  EXPECT_EQ(format_joda("h:mm a, EEEE d MMMM yy, 'week' w x", 0, *utc).value(),
            "12:00 AM, Thursday 1 January 70, week 1 1970");
  EXPECT_EQ(format_joda("G y C D k K S", -62135596800001, *utc).value(), "BC 0 0 366 23 11 9");
  EXPECT_EQ(format_joda("''yyyy''", 0, *utc).value(), "'1970'");
  EXPECT_FALSE(format_joda("yyyy 'open", 0, *utc));
  EXPECT_FALSE(format_joda("yyyy b", 0, *utc));
}

TEST(SqlTime, JavaParse) {
  EXPECT_EQ(parse_java("2016-12-15T18:07:31.155Z", "yyyy-MM-dd'T'HH:mm:ss.SSSX").value(),
            1481825251155);
  EXPECT_EQ(parse_java("15 Dec 2016", "d MMM yyyy").value(), 1481760000000);
  EXPECT_EQ(parse_java("2016-350", "yyyy-DDD").value(), 1481760000000);
  EXPECT_EQ(parse_java("Thu, 15 Dec 2016 18:07:31 GMT+01:00", "EEE, d MMM yyyy HH:mm:ss O").value(),
            1481821651000);
  EXPECT_EQ(parse_java("2016-12-15 18:07 Europe/Paris", "yyyy-MM-dd HH:mm VV").value(),
            1481821620000);
  EXPECT_EQ(parse_java("16-12-15", "yy-MM-dd").value(), 1481760000000);
  EXPECT_FALSE(parse_java("2016-12-15 18:07", "yyyy-MM-dd hh:mm"));  // hh needs a
  EXPECT_FALSE(parse_java("2016-13-01", "yyyy-MM-dd"));
  EXPECT_FALSE(parse_java("2016-12-15", "yyyy-MM-dd'"));
  EXPECT_FALSE(parse_java("2016-12-15 Mars/Base", "yyyy-MM-dd VV"));
}

}  // namespace
}  // namespace iotblocks::sql::detail
