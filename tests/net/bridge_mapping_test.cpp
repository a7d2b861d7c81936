// The bridge's topic mapping, case by case from mosquitto.conf(5) ("topic pattern
// [[[ out | in | both ] qos-level] local-prefix remote-prefix]").
#include <iotblocks/core/error.hpp>
#include <iotblocks/net/bridge.hpp>

#include <gtest/gtest.h>

namespace iotblocks::net {
namespace {

using d = bridge_direction;

bridge_topic topic(std::string pattern, d dir = d::out, std::uint8_t qos = 0, std::string lp = {},
                   std::string rp = {}) {
  return {std::move(pattern), dir, qos, std::move(lp), std::move(rp)};
}

std::string out(const bridge_topic& t, std::string_view local) {
  return map_out(t, local).value_or("<none>");
}
std::string in(const bridge_topic& t, std::string_view remote) {
  return map_in(t, remote).value_or("<none>");
}

// The table of mosquitto.conf(5): pattern, local prefix, remote prefix -> full topics.
TEST(BridgeMapping, MosquittoTableRowsThatAreValid) {
  struct row {
    const char *pattern, *lp, *rp, *full_local, *full_remote;
  };
  for (const auto& r : {row{"pattern", "L/", "R/", "L/pattern", "R/pattern"},
                        row{"pattern", "L/", "", "L/pattern", "pattern"},
                        row{"pattern", "", "R/", "pattern", "R/pattern"},
                        row{"pattern", "", "", "pattern", "pattern"},
                        row{"", "local", "remote", "local", "remote"}}) {
    SCOPED_TRACE(std::string(r.pattern) + " | " + r.lp + " | " + r.rp);
    const auto t = topic(r.pattern, d::both, 1, r.lp, r.rp);
    ASSERT_TRUE(validate(t)) << validate(t).describe();
    EXPECT_EQ(local_filter(t), r.full_local);
    EXPECT_EQ(remote_filter(t), r.full_remote);
    EXPECT_EQ(out(t, r.full_local), r.full_remote);
    EXPECT_EQ(in(t, r.full_remote), r.full_local);
  }
}

TEST(BridgeMapping, MosquittoTableRowsThatAreInvalid) {
  for (const auto& [lp, rp] : {std::pair{"local", ""}, {"", "remote"}, {"", ""}}) {
    const auto r = validate(topic("", d::out, 0, lp, rp));
    ASSERT_FALSE(r) << lp << " | " << rp;
    EXPECT_EQ(r.fail().code, core::error::invalid_argument);
    EXPECT_NE(r.fail().message.view().find("both local_prefix and remote_prefix"),
              std::string::npos);
  }
}

TEST(BridgeMapping, RemapsAWholeTreeBothWays) {
  // "topic # both 2 local/topic/ remote/topic/"
  const auto t = topic("#", d::both, 2, "local/topic/", "remote/topic/");
  EXPECT_EQ(local_filter(t), "local/topic/#");
  EXPECT_EQ(remote_filter(t), "remote/topic/#");
  EXPECT_EQ(out(t, "local/topic/a/b"), "remote/topic/a/b");
  EXPECT_EQ(in(t, "remote/topic/a/b"), "local/topic/a/b");
  EXPECT_EQ(out(t, "other/a"), "<none>");
  EXPECT_EQ(in(t, "local/topic/a"), "<none>");
  // "local/topic/#" also matches the parent "local/topic", which has no place under
  // the remote prefix: not mapped (mosquitto would send "remote/topic/local/topic").
  EXPECT_EQ(out(t, "local/topic"), "<none>");
  // A name that would map to an invalid topic ("remote/topic/" + "" is fine, but an
  // empty name is not): "local/topic/" maps to "remote/topic/".
  EXPECT_EQ(out(t, "local/topic/"), "remote/topic/");
}

TEST(BridgeMapping, MosquittoManualExampleImportsSys) {
  // "topic clients/total in 0 test/mosquitto/org/ $SYS/broker/"
  const auto t = topic("clients/total", d::in, 0, "test/mosquitto/org/", "$SYS/broker/");
  ASSERT_TRUE(validate(t));
  EXPECT_EQ(remote_filter(t), "$SYS/broker/clients/total");
  EXPECT_EQ(in(t, "$SYS/broker/clients/total"), "test/mosquitto/org/clients/total");
  EXPECT_EQ(out(t, "test/mosquitto/org/clients/total"), "<none>");  // in only
}

TEST(BridgeMapping, DirectionDecidesWhichWayMaps) {
  const auto o = topic("a/#"), i = topic("a/#", d::in), b = topic("a/#", d::both);
  EXPECT_EQ(o.direction, d::out);  // the default direction
  EXPECT_EQ(out(o, "a/x"), "a/x");
  EXPECT_EQ(in(o, "a/x"), "<none>");
  EXPECT_EQ(out(i, "a/x"), "<none>");
  EXPECT_EQ(in(i, "a/x"), "a/x");
  EXPECT_EQ(out(b, "a/x"), "a/x");
  EXPECT_EQ(in(b, "a/x"), "a/x");
}

TEST(BridgeMapping, WildcardsApplyUnderThePrefixes) {
  const auto t = topic("+/lux", d::both, 1, "greenhouse/", "sites/berlin/");
  EXPECT_EQ(out(t, "greenhouse/g1/lux"), "sites/berlin/g1/lux");
  EXPECT_EQ(out(t, "greenhouse/g1/temp"), "<none>");
  EXPECT_EQ(out(t, "greenhouse/g1/lux/x"), "<none>");
  EXPECT_EQ(in(t, "sites/berlin/g2/lux"), "greenhouse/g2/lux");
  EXPECT_EQ(in(t, "sites/paris/g2/lux"), "<none>");
  // A filter starting with a wildcard does not match $-topics (MQTT 4.7.2).
  EXPECT_EQ(out(topic("#"), "$SYS/broker/load"), "<none>");
  EXPECT_EQ(out(topic("$SYS/#"), "$SYS/broker/load"), "$SYS/broker/load");
}

TEST(BridgeMapping, PrefixWithoutSlashIsPlainConcatenation) {
  // As in mosquitto, the prefix is prepended as written.
  const auto t = topic("x", d::both, 0, "pre", "up-");
  EXPECT_EQ(local_filter(t), "prex");
  EXPECT_EQ(out(t, "prex"), "up-x");
  EXPECT_EQ(in(t, "up-x"), "prex");
}

TEST(BridgeMapping, ListMapsWithTheFirstMatchingTopicAndTheLowerQos) {
  const std::vector<bridge_topic> ts{topic("a/#", d::in, 2, "l/", "r/"),
                                     topic("a/b", d::out, 1, "l/", "up/"),
                                     topic("a/#", d::both, 2, "l/", "all/")};
  auto m = map_out(ts, "l/a/b", 2);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->topic, "up/a/b");
  EXPECT_EQ(m->qos, 1);
  EXPECT_EQ(m->index, 1u);
  m = map_out(ts, "l/a/c", 0);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->topic, "all/a/c");
  EXPECT_EQ(m->qos, 0);
  m = map_in(ts, "r/a/z", 1);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->topic, "l/a/z");
  EXPECT_EQ(m->qos, 1);
  EXPECT_FALSE(map_in(ts, "up/a/b", 1));  // out only
  EXPECT_FALSE(map_out(ts, "x", 1));
}

TEST(BridgeMapping, RefusesBadTopics) {
  auto message = [](const bridge_topic& t) {
    auto r = validate(t);
    return r ? std::string("ok") : std::string{r.fail().message.view()};
  };
  EXPECT_EQ(message(topic("a", d::out, 3)), "qos 3 is not 0, 1 or 2");
  EXPECT_NE(message(topic("a", d::out, 0, "l/+/")).find("local_prefix \"l/+/\" must not contain"),
            std::string::npos);
  EXPECT_NE(message(topic("a", d::out, 0, "", "r/#")).find("remote_prefix"), std::string::npos);
  EXPECT_NE(message(topic("a/#/b")).find("not a valid topic filter"), std::string::npos);
  EXPECT_NE(message(topic("a#")).find("not a valid topic filter"), std::string::npos);
  EXPECT_NE(message(topic("$share/g/a")).find("$share"), std::string::npos);
  EXPECT_EQ(message(topic("#", d::both, 2, "l/", "r/")), "ok");
}

TEST(BridgeMapping, OptionsNameTheBadTopic) {
  bridge_options o;
  o.client.host = "127.0.0.1";
  EXPECT_EQ(validate_options(o).fail().message, "at least one topic is needed");
  o.topics = {topic("a"), topic("", d::in, 0, "x", "")};
  EXPECT_EQ(validate_options(o).fail().message.view().rfind("topics[1]: ", 0), 0u);
  o.topics.pop_back();
  EXPECT_TRUE(validate_options(o));
  o.name.clear();
  EXPECT_FALSE(validate_options(o));
  EXPECT_EQ(default_bridge_client_id("cloud").rfind("cloud.", 0), 0u);
}

TEST(BridgeMapping, HostileNamesDoNotMap) {
  const auto t = topic("#", d::both, 0, "", "");
  EXPECT_EQ(out(t, ""), "<none>");
  EXPECT_EQ(out(t, "a/+"), "<none>");
  EXPECT_EQ(in(t, std::string("a\0b", 3)), "<none>");
  EXPECT_EQ(out(t, std::string(70000, 'a')), "<none>");
}

}  // namespace
}  // namespace iotblocks::net
