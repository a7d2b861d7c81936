#include <iotblocks/registry/fleet_query.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace iotblocks::registry {
namespace {

/// Three things: a lamp, a pump and a plasma tv.
std::vector<std::pair<std::string, thing_document>> fleet() {
  std::vector<std::pair<std::string, thing_document>> out;
  thing_document lamp;
  lamp.add("thingName", "lamp-1");
  lamp.add("thingTypeName", "Light");
  lamp.add("thingGroupNames", "floor-1");
  lamp.add("thingGroupNames", "building");
  lamp.add("attributes.watts", "40");
  lamp.add("attributes.serial", "abcd");
  EXPECT_TRUE(lamp.add_json("shadow.reported", R"({"on":true,"temp":21.5,"pos":{"x":3}})"));
  lamp.add("connectivity.connected", "true");
  out.emplace_back("lamp-1", std::move(lamp));
  thing_document pump;
  pump.add("thingName", "pump-7");
  pump.add("thingTypeName", "Pump");
  pump.add("thingGroupNames", "building");
  pump.add("attributes.watts", "750");
  pump.add("attributes.serial", "abcf");
  EXPECT_TRUE(pump.add_json("shadow.name.cfg.desired", R"({"mode":"eco","tags":["a","b"]})"));
  pump.add("connectivity.connected", "false");
  out.emplace_back("pump-7", std::move(pump));
  thing_document tv;
  tv.add("thingName", "tv-plasma");
  tv.add("attributes.watts", "100");
  tv.add("attributes.serial", "abce");
  out.emplace_back("tv-plasma", std::move(tv));
  return out;
}

std::vector<std::string> search(std::string_view q) {
  auto parsed = fleet_query::parse(q);
  EXPECT_TRUE(parsed) << q << ": " << parsed.describe();
  std::vector<std::string> names;
  if (!parsed) return names;
  for (const auto& [name, d] : fleet()) {
    if (parsed->matches(d)) names.push_back(name);
  }
  return names;
}

using names = std::vector<std::string>;

TEST(FleetQuery, FieldsAndValues) {
  EXPECT_EQ(search("thingName:lamp-1"), names{"lamp-1"});
  EXPECT_EQ(search("thingName:LAMP-1"), names{"lamp-1"});  // values ignore case
  EXPECT_EQ(search("thingTypeName:Pump"), names{"pump-7"});
  EXPECT_EQ(search("thingGroupNames:building"), (names{"lamp-1", "pump-7"}));
  EXPECT_EQ(search("attributes.watts:40"), names{"lamp-1"});
  EXPECT_EQ(search("attributes.watts:40.0"), names{"lamp-1"});  // numbers as numbers
  EXPECT_EQ(search("shadow.reported.on:true"), names{"lamp-1"});
  EXPECT_EQ(search("shadow.reported.pos.x:3"), names{"lamp-1"});
  EXPECT_EQ(search("shadow.name.cfg.desired.tags:b"), names{"pump-7"});
  EXPECT_EQ(search("connectivity.connected:false"), names{"pump-7"});
  EXPECT_EQ(search("thingName:\"tv-plasma\""), names{"tv-plasma"});
  EXPECT_EQ(search("eco"), names{"pump-7"});  // no field: every field
  EXPECT_EQ(search("*"), (names{"lamp-1", "pump-7", "tv-plasma"}));
  EXPECT_EQ(search("thingTypeName:*"), (names{"lamp-1", "pump-7"}));
  EXPECT_EQ(search("shadow.reported.pos:*"), names{"lamp-1"});  // an object field exists
}

TEST(FleetQuery, Wildcards) {
  EXPECT_EQ(search("thingName:lamp*"), names{"lamp-1"});
  EXPECT_EQ(search("thingName:*plasma"), names{"tv-plasma"});
  EXPECT_EQ(search("thingName:*m*"), (names{"lamp-1", "pump-7", "tv-plasma"}));
  EXPECT_EQ(search("thingName:pump-?"), names{"pump-7"});
  EXPECT_EQ(search("thingName:pump-??"), names{});
  EXPECT_EQ(search("attributes.serial:a*d"), names{"lamp-1"});
  EXPECT_EQ(search("thingName:lamp\\*"), names{});  // an escaped `*` is a character
}

TEST(FleetQuery, RangesAndComparisons) {
  EXPECT_EQ(search("attributes.watts:[40 TO 100]"), (names{"lamp-1", "tv-plasma"}));
  EXPECT_EQ(search("attributes.watts:{40 TO 100]"), names{"tv-plasma"});
  EXPECT_EQ(search("attributes.watts:[40 TO 100}"), names{"lamp-1"});
  EXPECT_EQ(search("attributes.watts:{40 TO 100}"), names{});
  EXPECT_EQ(search("attributes.watts:[100 TO *]"), (names{"pump-7", "tv-plasma"}));
  // Numbers compare as numbers: 750 > 100 although "750" < "100" is false as text too, and
  // "40" > "100" as text but not as numbers.
  EXPECT_EQ(search("attributes.watts>100"), names{"pump-7"});
  EXPECT_EQ(search("attributes.watts>=100"), (names{"pump-7", "tv-plasma"}));
  EXPECT_EQ(search("attributes.watts<100"), names{"lamp-1"});
  EXPECT_EQ(search("attributes.watts<=100"), (names{"lamp-1", "tv-plasma"}));
  EXPECT_EQ(search("attributes.serial:[\"abcd\" TO \"abce\"]"), (names{"lamp-1", "tv-plasma"}));
  EXPECT_EQ(search("attributes.serial>abce"), names{"pump-7"});
  EXPECT_EQ(search("shadow.reported.temp:[21 TO 22]"), names{"lamp-1"});
  EXPECT_EQ(search("attributes.watts>-5"), (names{"lamp-1", "pump-7", "tv-plasma"}));
}

TEST(FleetQuery, BooleanOperatorsAndPrecedence) {
  EXPECT_EQ(search("thingGroupNames:building AND attributes.watts>100"), names{"pump-7"});
  EXPECT_EQ(search("thingGroupNames:building attributes.watts>100"), names{"pump-7"});
  EXPECT_EQ(search("thingName:lamp-1 OR thingName:tv-plasma"), (names{"lamp-1", "tv-plasma"}));
  EXPECT_EQ(search("NOT thingGroupNames:building"), names{"tv-plasma"});
  EXPECT_EQ(search("-thingGroupNames:building"), names{"tv-plasma"});
  EXPECT_EQ(search("thingGroupNames:building NOT thingTypeName:Pump"), names{"lamp-1"});
  // AND binds tighter than OR: a OR (b AND c).
  EXPECT_EQ(search("thingName:tv-plasma OR thingGroupNames:building AND thingTypeName:Pump"),
            (names{"pump-7", "tv-plasma"}));
  EXPECT_EQ(search("(thingName:tv-plasma OR thingGroupNames:building) AND thingTypeName:Pump"),
            names{"pump-7"});
  // NOT binds tighter than AND and OR.
  EXPECT_EQ(search("NOT thingName:lamp-1 AND NOT thingName:pump-7"), names{"tv-plasma"});
  EXPECT_EQ(search("NOT thingName:lamp-1 OR thingName:lamp-1"),
            (names{"lamp-1", "pump-7", "tv-plasma"}));
  EXPECT_EQ(search("NOT (thingName:lamp-1 OR thingName:pump-7)"), names{"tv-plasma"});
  // Field grouping, with the guide's `-` inside it.
  EXPECT_EQ(search("thingName:(tv* AND -plasma)"), names{"tv-plasma"});  // values are whole
  EXPECT_EQ(search("thingName:(tv* AND -tv-plasma)"), names{});
  EXPECT_EQ(search("thingName:(lamp* OR pump*)"), (names{"lamp-1", "pump-7"}));
  EXPECT_EQ(search("thingName:(* AND -lamp-1)"), (names{"pump-7", "tv-plasma"}));
}

failure parse_error(std::string_view q, fleet_index index = fleet_index::things) {
  auto r = fleet_query::parse(q, index);
  EXPECT_FALSE(r) << q;
  if (r) return {};
  EXPECT_EQ(r.fail().code, error::invalid_query) << q;
  return r.fail();
}

TEST(FleetQuery, ErrorsHavePositions) {
  struct expect {
    std::string_view query;
    std::size_t offset;
    std::string_view says;
  };
  for (const auto& e : std::vector<expect>{
           {"", 0, "empty"},
           {"   ", 0, "empty"},
           {"thingName:(lamp", 15, "expected ')'"},
           {"thingName:lamp)", 14, "unbalanced ')'"},
           {"thingName:", 10, "expected a value"},
           {"thingName:a AND", 15, "after AND"},
           {"thingName:a OR", 14, "expected a term"},
           {"NOT", 3, "after NOT"},
           {"colour:red", 0, "unknown field 'colour'"},
           {"attributes.:x", 0, "unknown field"},
           {"thingName:a@b", 11, "unsupported character '@'"},
           {"thingName:\"abc", 10, "unterminated"},
           {"attributes.w:[1 2]", 16, "expected TO"},
           {"attributes.w:[1 TO 2", 20, "expected ']' or '}'"},
           {"attributes.w:[a* TO b]", 14, "wildcards"},
           {"attributes.w>", 13, "expected a value"},
           {"attributes.w<a*", 13, "wildcards"},
           {"thingName:*a AND thingTypeName:*b", 31, "only one term"},
           {"thingName:(thingTypeName:x)", 11, "inside the field group"},
           {"()", 1, "empty parentheses"},
           {"thingName:a\\", 11, "escape"},
       }) {
    const auto f = parse_error(e.query);
    EXPECT_EQ(f.where.offset, e.offset) << e.query << ": " << f.describe();
    EXPECT_NE(f.message.view().find(e.says), std::string::npos) << e.query << ": " << f.message;
    EXPECT_EQ(f.where.column, e.offset + 1) << e.query;
  }
}

TEST(FleetQuery, Limits) {
  std::string twelve = "thingName:a";
  for (int i = 0; i < 11; ++i) twelve += " OR thingName:a";
  EXPECT_TRUE(fleet_query::parse(twelve));
  const auto f = parse_error(twelve + " OR thingName:a");
  EXPECT_NE(f.message.view().find("more than 12 terms"), std::string::npos) << f.message;
  EXPECT_EQ(f.where.offset, twelve.size() + 14);  // the 13th value

  std::string deep(16, '(');
  EXPECT_NE(parse_error(deep + "a" + std::string(16, ')')).message.view().find("nested deeper"),
            std::string::npos);
  std::string nots;
  for (int i = 0; i < 40; ++i) nots += "NOT ";
  EXPECT_NE(parse_error(nots + "a").message.view().find("nested deeper"), std::string::npos);
  EXPECT_TRUE(fleet_query::parse(std::string(15, '(') + "a" + std::string(15, ')')));

  EXPECT_NE(parse_error(std::string(1025, 'a')).message.view().find("longer than 1024"),
            std::string::npos);
  // A leading wildcard allows 100 characters at most (AWS).
  std::string padded = "thingName:*a AND attributes.x:" + std::string(70, 'b');
  EXPECT_TRUE(fleet_query::parse(padded));
  EXPECT_NE(parse_error(padded + "b").message.view().find("at most 100"), std::string::npos);
}

TEST(FleetQuery, ThingGroupIndexHasItsOwnFields) {
  EXPECT_TRUE(
      fleet_query::parse("thingGroupName:a* AND parentGroupNames:b", fleet_index::thing_groups));
  parse_error("thingName:a", fleet_index::thing_groups);
  parse_error("parentGroupNames:a", fleet_index::things);
}

TEST(FleetQuery, Reads) {
  auto q = fleet_query::parse("thingName:a AND shadow.reported.x:1");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->reads("shadow."));
  EXPECT_FALSE(q->reads("connectivity."));
  EXPECT_TRUE(fleet_query::parse("abc")->reads("connectivity."));  // no field: every field
}

TEST(FleetQuery, DocumentFromJson) {
  thing_document d;
  EXPECT_FALSE(d.add_json("shadow.reported", "[1]"));
  EXPECT_FALSE(d.add_json("shadow.reported", "{"));
  EXPECT_TRUE(d.fields().empty());
  ASSERT_TRUE(d.add_json("s", R"({"a":{"b":[1,"x",null,false]},"c":2.5})"));
  std::vector<std::pair<std::string, std::string>> got(d.fields().begin(), d.fields().end());
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{
                     {"s.a.b", "1"}, {"s.a.b", "x"}, {"s.a.b", "false"}, {"s.c", "2.5"}}));
}

}  // namespace
}  // namespace iotblocks::registry
