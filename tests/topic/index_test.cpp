// The subscription index: one test per spec rule it implements (MQTT 5.0
// sections 4.7, 4.8, 3.3.4, 3.8), then updates, strategies and threads.
#include <iotblocks/topic/index.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace iotblocks::topic {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::vector<subscriber_id> who(const subscription_index& index, std::string_view topic,
                               const match_context& ctx = {}) {
  std::vector<match_entry> out;
  index.match(topic, out, ctx);
  std::vector<subscriber_id> ids;
  for (const auto& e : out) ids.push_back(e.subscriber);
  std::sort(ids.begin(), ids.end());
  return ids;
}

subscription_index with(std::initializer_list<std::pair<const char*, subscriber_id>> subs) {
  subscription_index index;
  for (const auto& [filter, id] : subs) EXPECT_TRUE(index.subscribe(filter, id).ok()) << filter;
  return index;
}

// MQTT-4.7.0-1: wildcards belong in filters; a name with one is rejected by
// validate_name, and a '+' or '#' in a topic level is never a wildcard match key.
TEST(TopicIndex, MQTT_4_7_0_1_WildcardsOnlyInFilters) {
  auto index = with({{"a/+", 1}, {"a/#", 2}});
  EXPECT_THAT(who(index, "a/b"), ElementsAre(1, 2));
  EXPECT_TRUE(validate_name("a/+"));  // the codec rejects it before matching
}

// MQTT-4.7.1-1: '#' matches the parent level and any number of child levels.
TEST(TopicIndex, MQTT_4_7_1_1_MultiLevelWildcard) {
  auto index = with({{"sport/tennis/player1/#", 1}, {"sport/#", 2}, {"#", 3}});
  EXPECT_THAT(who(index, "sport/tennis/player1"), ElementsAre(1, 2, 3));
  EXPECT_THAT(who(index, "sport/tennis/player1/ranking"), ElementsAre(1, 2, 3));
  EXPECT_THAT(who(index, "sport/tennis/player1/score/wimbledon"), ElementsAre(1, 2, 3));
  EXPECT_THAT(who(index, "sport"), ElementsAre(2, 3));
  EXPECT_THAT(who(index, "sports"), ElementsAre(3));
  EXPECT_FALSE(index.subscribe("sport/tennis#", 4).ok());
  EXPECT_EQ(index.subscribe("sport/#/ranking", 4).error(), error::multi_level_not_last);
}

// MQTT-4.7.1-2: '+' matches exactly one level, an empty one included.
TEST(TopicIndex, MQTT_4_7_1_2_SingleLevelWildcard) {
  auto index = with({{"sport/tennis/+", 1}, {"sport/+", 2}, {"+/+", 3}, {"/+", 4}, {"+", 5}});
  EXPECT_THAT(who(index, "sport/tennis/player1"), ElementsAre(1));
  EXPECT_THAT(who(index, "sport/tennis/player1/ranking"), IsEmpty());
  EXPECT_THAT(who(index, "sport"), ElementsAre(5));
  EXPECT_THAT(who(index, "sport/"), ElementsAre(2, 3));
  EXPECT_THAT(who(index, "/finance"), ElementsAre(3, 4));
  EXPECT_EQ(index.subscribe("sport+", 6).error(), error::wildcard_not_whole_level);
}

// MQTT-4.7.2-1: filters starting with a wildcard do not match names starting with '$'.
TEST(TopicIndex, MQTT_4_7_2_1_DollarTopics) {
  auto index = with({{"#", 1},
                     {"+/monitor/Clients", 2},
                     {"$SYS/#", 3},
                     {"$SYS/monitor/+", 4},
                     {"+/#", 5},
                     {"$share/g/#", 6}});
  EXPECT_THAT(who(index, "$SYS/monitor/Clients"), ElementsAre(3, 4));
  EXPECT_THAT(who(index, "SYS/monitor/Clients"), ElementsAre(1, 2, 5, 6));
  EXPECT_THAT(who(index, "$aws/things/t1/shadow/update"), IsEmpty());
  EXPECT_THAT(who(index, "a/$SYS"), ElementsAre(1, 5, 6));  // only the first level counts
}

// MQTT-4.7.3-1: names and filters are at least one character long.
TEST(TopicIndex, MQTT_4_7_3_1_EmptyFilterRejected) {
  subscription_index index;
  EXPECT_EQ(index.subscribe("", 1).error(), error::empty);
  EXPECT_TRUE(index.subscribe("/", 1).ok());
  EXPECT_THAT(who(index, "/"), ElementsAre(1));
}

// MQTT-4.7.3-2: no U+0000 (and well-formed UTF-8).
TEST(TopicIndex, MQTT_4_7_3_2_NulRejected) {
  subscription_index index;
  EXPECT_EQ(index.subscribe(std::string_view{"a\0b", 3}, 1).error(), error::invalid_utf8);
  EXPECT_EQ(index.subscribe("a/\xC0\x80", 1).error(), error::invalid_utf8);
  EXPECT_EQ(index.size(), 0u);
}

// MQTT-4.7.3-3: at most 65,535 bytes; the index also bounds depth (max_levels).
TEST(TopicIndex, MQTT_4_7_3_3_LengthAndDepthLimits) {
  subscription_index index;
  EXPECT_EQ(index.subscribe(std::string(65536, 'a'), 1).error(), error::too_long);
  const std::string long_level(65535, 'x');
  EXPECT_TRUE(index.subscribe(long_level, 1).ok());
  EXPECT_THAT(who(index, long_level), ElementsAre(1));
  index.max_levels(3);
  EXPECT_EQ(index.subscribe("a/b/c/d", 2).error(), error::too_many_levels);
  EXPECT_TRUE(index.subscribe("a/b/#", 3).ok());
  std::string deep = "a/b";
  for (int i = 0; i < 5000; ++i) deep += "/x";
  EXPECT_THAT(who(index, deep), ElementsAre(3));  // deeper names still reach '#'
}

// MQTT-4.7.3-4: no normalisation: case, empty levels and bytes are significant.
TEST(TopicIndex, MQTT_4_7_3_4_NoNormalisation) {
  auto index = with({{"ACCOUNTS", 1}, {"a/b", 2}, {"a//b", 3}, {"caf\xC3\xA9", 4}, {"a/b/", 5}});
  EXPECT_THAT(who(index, "Accounts"), IsEmpty());
  EXPECT_THAT(who(index, "ACCOUNTS"), ElementsAre(1));
  EXPECT_THAT(who(index, "a//b"), ElementsAre(3));
  EXPECT_THAT(who(index, "a/b/"), ElementsAre(5));
  EXPECT_THAT(who(index, "cafe\xCC\x81"), IsEmpty());  // another normal form
  EXPECT_THAT(who(index, "caf\xC3\xA9"), ElementsAre(4));
}

// MQTT-4.8.2-1 / MQTT-4.8.2-2: $share/{ShareName}/{filter}, ShareName without '/', '+', '#'.
TEST(TopicIndex, MQTT_4_8_2_1_SharedFilterSyntax) {
  subscription_index index;
  EXPECT_EQ(index.subscribe("$share//a", 1).error(), error::invalid_shared);
  EXPECT_EQ(index.subscribe("$share/g+/a", 1).error(), error::invalid_shared);
  EXPECT_EQ(index.subscribe("$share/g", 1).error(), error::invalid_shared);
  EXPECT_EQ(index.subscribe("$share/g/a/#/b", 1).error(), error::multi_level_not_last);
  EXPECT_TRUE(index.subscribe("$share/g/a/+", 1).ok());
  EXPECT_THAT(who(index, "a/b"), ElementsAre(1));
  EXPECT_THAT(who(index, "$share/g/a/b"), IsEmpty());  // the group is not part of the topic
}

// MQTT-4.8.2-2 (behaviour): each message goes to exactly one member of each group;
// groups are independent of each other and of non-shared subscriptions.
TEST(TopicIndex, MQTT_4_8_2_2_OneMemberPerGroup) {
  auto index = with({{"$share/g1/s/+", 1},
                     {"$share/g1/s/+", 2},
                     {"$share/g1/s/+", 3},
                     {"$share/g2/s/#", 10},
                     {"$share/g2/s/#", 11},
                     {"s/+", 20}});
  std::map<subscriber_id, int> count;
  for (int i = 0; i < 300; ++i) {
    const auto ids = who(index, "s/x");
    ASSERT_EQ(ids.size(), 3u);
    EXPECT_EQ(std::count_if(ids.begin(), ids.end(), [](auto s) { return s <= 3; }), 1);
    EXPECT_EQ(std::count_if(ids.begin(), ids.end(), [](auto s) { return s == 10 || s == 11; }), 1);
    EXPECT_EQ(ids.back(), 20u);
    for (auto s : ids) ++count[s];
  }
  // Round robin: 100 each in g1, 150 each in g2.
  EXPECT_EQ(count[1], 100);
  EXPECT_EQ(count[2], 100);
  EXPECT_EQ(count[3], 100);
  EXPECT_EQ(count[10], 150);
  EXPECT_EQ(count[11], 150);
}

// MQTT-4.8.2-3: a shared delivery carries the QoS granted to the member that gets it.
TEST(TopicIndex, MQTT_4_8_2_3_MemberQosRespected) {
  subscription_index index;
  ASSERT_TRUE(index.subscribe("$share/g/t", 1, {.qos = 0}).ok());
  ASSERT_TRUE(index.subscribe("$share/g/t", 2, {.qos = 2}).ok());
  for (int i = 0; i < 4; ++i) {
    std::vector<match_entry> out;
    index.match("t", out);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_TRUE(out[0].shared);
    EXPECT_EQ(out[0].options.qos, out[0].subscriber == 1 ? 0 : 2);
  }
}

// MQTT-3.8.3-4: no_local on a shared subscription is a protocol error.
TEST(TopicIndex, MQTT_3_8_3_4_NoLocalOnSharedRejected) {
  subscription_index index;
  EXPECT_EQ(index.subscribe("$share/g/t", 1, {.no_local = true}).error(), error::invalid_options);
}

// MQTT-3.8.3-3: no_local: not delivered to the publishing client itself.
TEST(TopicIndex, MQTT_3_8_3_3_NoLocal) {
  subscription_index index;
  ASSERT_TRUE(index.subscribe("chat/#", 1, {.no_local = true}).ok());
  ASSERT_TRUE(index.subscribe("chat/+", 2).ok());
  EXPECT_THAT(who(index, "chat/room", {.publisher = 1}), ElementsAre(2));
  EXPECT_THAT(who(index, "chat/room", {.publisher = 2}), ElementsAre(1, 2));
}

// MQTT-3.8.4-3: subscribing again to the same filter replaces the subscription.
TEST(TopicIndex, MQTT_3_8_4_3_ResubscribeReplaces) {
  subscription_index index;
  EXPECT_TRUE(index.subscribe("a/b", 1, {.qos = 0}).value());
  EXPECT_FALSE(index.subscribe("a/b", 1, {.qos = 2, .identifier = 9}).value());
  EXPECT_TRUE(index.subscribe("$share/g/a/b", 1, {.qos = 1}).value());
  EXPECT_FALSE(index.subscribe("$share/g/a/b", 1, {.qos = 2}).value());
  EXPECT_EQ(index.size(), 2u);
  std::vector<match_entry> out;
  index.match("a/b", out);
  EXPECT_THAT(out, UnorderedElementsAre(match_entry{1, {.qos = 2, .identifier = 9}, false},
                                        match_entry{1, {.qos = 2}, true}));
}

// MQTT-3.3.4-2 / 3.3.4-3: overlapping subscriptions of one client: one copy with
// the maximum QoS and every subscription identifier; shared picks stay separate.
TEST(TopicIndex, MQTT_3_3_4_OverlappingSubscriptions) {
  subscription_index index;
  ASSERT_TRUE(index.subscribe("a/+", 1, {.qos = 0, .identifier = 7}).ok());
  ASSERT_TRUE(index.subscribe("a/#", 1, {.qos = 2, .identifier = 3}).ok());
  ASSERT_TRUE(index.subscribe("#", 1, {.qos = 1, .retain_as_published = true}).ok());
  ASSERT_TRUE(index.subscribe("a/b", 2, {.qos = 1, .identifier = 5}).ok());
  ASSERT_TRUE(index.subscribe("$share/g/a/b", 1, {.qos = 1, .identifier = 4}).ok());
  match_result r;
  index.match("a/b", r);
  ASSERT_EQ(r.deliveries().size(), 3u);
  const delivery& d1 = r.deliveries()[0];
  EXPECT_EQ(d1.subscriber, 1u);
  EXPECT_FALSE(d1.shared);
  EXPECT_EQ(d1.qos, 2);
  EXPECT_TRUE(d1.retain_as_published);
  EXPECT_THAT(r.identifiers(d1), ElementsAre(3, 7));
  EXPECT_EQ(r.deliveries()[1].subscriber, 2u);
  EXPECT_THAT(r.identifiers(r.deliveries()[1]), ElementsAre(5));
  const delivery& shared = r.deliveries()[2];
  EXPECT_TRUE(shared.shared);
  EXPECT_EQ(shared.subscriber, 1u);
  EXPECT_THAT(r.identifiers(shared), ElementsAre(4));
}

TEST(TopicIndex, OptionsRoundTripAndRangeChecks) {
  subscription_index index;
  const subscription_options all{.qos = 2,
                                 .no_local = true,
                                 .retain_as_published = true,
                                 .retain_handling = 2,
                                 .identifier = 268'435'455};
  ASSERT_TRUE(index.subscribe("x", ~subscriber_id{0} - 1, all).ok());
  std::vector<match_entry> out;
  index.match("x", out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].subscriber, ~subscriber_id{0} - 1);
  EXPECT_EQ(out[0].options, all);
  EXPECT_EQ(index.subscribe("x", 1, {.qos = 3}).error(), error::invalid_options);
  EXPECT_EQ(index.subscribe("x", 1, {.retain_handling = 3}).error(), error::invalid_options);
  EXPECT_EQ(index.subscribe("x", 1, {.identifier = 268'435'456}).error(), error::invalid_options);
}

TEST(TopicIndex, UnsubscribePrunesTheTrie) {
  subscription_index index;
  const std::size_t empty_nodes = index.node_count();
  ASSERT_TRUE(index.subscribe("a/b/c", 1).ok());
  ASSERT_TRUE(index.subscribe("a/b/#", 2).ok());
  ASSERT_TRUE(index.subscribe("a/+/c", 3).ok());
  ASSERT_TRUE(index.subscribe("$share/g/a/b/c", 4).ok());
  ASSERT_TRUE(index.subscribe("a/a-level-longer-than-twelve-bytes/x", 5).ok());
  EXPECT_FALSE(index.unsubscribe("a/b/c", 9));
  EXPECT_FALSE(index.unsubscribe("a/b/d", 1));
  EXPECT_FALSE(index.unsubscribe("$share/h/a/b/c", 4));
  EXPECT_FALSE(index.unsubscribe("a/b/#/x", 2));  // invalid filter
  EXPECT_TRUE(index.unsubscribe("a/b/c", 1));
  EXPECT_FALSE(index.unsubscribe("a/b/c", 1));
  EXPECT_THAT(who(index, "a/b/c"), ElementsAre(2, 3, 4));
  EXPECT_TRUE(index.unsubscribe("$share/g/a/b/c", 4));
  EXPECT_TRUE(index.unsubscribe("a/b/#", 2));
  EXPECT_TRUE(index.unsubscribe("a/+/c", 3));
  EXPECT_TRUE(index.unsubscribe("a/a-level-longer-than-twelve-bytes/x", 5));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.node_count(), empty_nodes);
  EXPECT_THAT(who(index, "a/b/c"), IsEmpty());
  ASSERT_TRUE(index.subscribe("a/b/c", 1).ok());  // freed nodes are reused
  EXPECT_THAT(who(index, "a/b/c"), ElementsAre(1));
}

TEST(TopicIndex, ManySubscribersOnOneFilter) {
  subscription_index index;
  for (subscriber_id s = 0; s < 1000; ++s) ASSERT_TRUE(index.subscribe("t/+", s).ok());
  for (subscriber_id s = 0; s < 1000; s += 2) ASSERT_TRUE(index.unsubscribe("t/+", s));
  const auto ids = who(index, "t/x");
  ASSERT_EQ(ids.size(), 500u);
  EXPECT_TRUE(std::all_of(ids.begin(), ids.end(), [](auto s) { return s % 2 == 1; }));
  EXPECT_TRUE(index.any_match("t/y"));
  EXPECT_FALSE(index.any_match("u/y"));
}

// Subscriber lists grow through every block size and past the largest one
// (4,095 records), then shrink to nothing; options replace in place throughout.
TEST(TopicIndex, SubscriberListsGrowAndShrink) {
  subscription_index index;
  constexpr subscriber_id n = 10'000;
  for (subscriber_id s = 0; s < n; ++s) {
    ASSERT_TRUE(index.subscribe("big/list", s, {.qos = 1}).value());
    if (s % 1000 == 0) {
      ASSERT_EQ(who(index, "big/list").size(), s + 1);
    }
  }
  ASSERT_TRUE(index.subscribe("small/list", 1).ok());
  ASSERT_TRUE(index.subscribe("small/list", 2).ok());
  EXPECT_FALSE(index.subscribe("big/list", 4321, {.qos = 2, .identifier = 9}).value());
  std::vector<match_entry> out;
  index.match("big/list", out);
  ASSERT_EQ(out.size(), n);
  for (const auto& e : out) {
    EXPECT_EQ(e.options.qos, e.subscriber == 4321 ? 2 : 1);
    EXPECT_EQ(e.options.identifier, e.subscriber == 4321 ? 9u : 0u);
  }
  for (subscriber_id s = 0; s < n; s += 3) ASSERT_TRUE(index.unsubscribe("big/list", s));
  auto ids = who(index, "big/list");
  EXPECT_EQ(ids.size(), n - (n + 2) / 3);
  EXPECT_TRUE(std::none_of(ids.begin(), ids.end(), [](auto s) { return s % 3 == 0; }));
  for (subscriber_id s = 0; s < n; ++s) EXPECT_EQ(index.unsubscribe("big/list", s), s % 3 != 0);
  EXPECT_THAT(who(index, "big/list"), IsEmpty());
  EXPECT_THAT(who(index, "small/list"), ElementsAre(1, 2));
  EXPECT_EQ(index.size(), 2u);
}

// Tens of thousands of nodes: the node table grows several times, and removals in
// an interleaved order move slots back; every filter keeps matching exactly.
TEST(TopicIndex, NodeTableGrowsAndShrinks) {
  subscription_index index;
  const std::size_t empty_nodes = index.node_count();
  constexpr subscriber_id n = 20'000;
  auto filter = [](subscriber_id i) {
    switch (i % 4) {
      case 0: return "a/" + std::to_string(i) + "/b";
      case 1: return "a/" + std::to_string(i % 97) + "/+/" + std::to_string(i);
      case 2:
        return "x/" + std::to_string(i % 13) + "/a-level-longer-than-twelve-bytes-" +
               std::to_string(i) + "/#";
      default: return "+/" + std::to_string(i) + "/c";
    }
  };
  for (subscriber_id i = 0; i < n; ++i) ASSERT_TRUE(index.subscribe(filter(i), i).value());
  auto check = [&](subscriber_id i, bool present) {
    const std::string t = i % 4 == 0   ? "a/" + std::to_string(i) + "/b"
                          : i % 4 == 1 ? "a/" + std::to_string(i % 97) + "/q/" + std::to_string(i)
                          : i % 4 == 2
                              ? "x/" + std::to_string(i % 13) +
                                    "/a-level-longer-than-twelve-bytes-" + std::to_string(i) + "/z"
                              : "q/" + std::to_string(i) + "/c";
    const auto ids = who(index, t);
    EXPECT_EQ(std::count(ids.begin(), ids.end(), i), present ? 1 : 0) << t;
  };
  for (subscriber_id i = 0; i < n; i += 7) check(i, true);
  std::vector<subscriber_id> removed;  // steps done: i is gone when one divides it
  for (subscriber_id step : {5u, 3u, 2u, 1u}) {
    for (subscriber_id i = 0; i < n; i += step) index.unsubscribe(filter(i), i);
    removed.push_back(step);
    for (subscriber_id i = 0; i < n; i += 11) {
      check(i, std::none_of(removed.begin(), removed.end(), [&](auto d) { return i % d == 0; }));
    }
  }
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.node_count(), empty_nodes);
}

TEST(TopicIndex, StrategiesPickOneMember) {
  for (auto strategy :
       {share_strategy::random, share_strategy::hash_topic, share_strategy::hash_client}) {
    subscription_index index;
    index.strategy(strategy);
    for (subscriber_id s = 1; s <= 4; ++s) ASSERT_TRUE(index.subscribe("$share/g/t/+", s).ok());
    std::set<subscriber_id> seen;
    std::map<std::string, subscriber_id> sticky;
    for (int i = 0; i < 400; ++i) {
      const std::string topic = "t/" + std::to_string(i % 20);
      const std::string client = "client" + std::to_string(i % 7);
      const auto ids = who(index, topic, {.publisher_client_id = client});
      ASSERT_EQ(ids.size(), 1u);
      seen.insert(ids[0]);
      const std::string key = strategy == share_strategy::hash_topic ? topic : client;
      if (strategy != share_strategy::random) {
        auto [it, fresh] = sticky.emplace(key, ids[0]);
        EXPECT_EQ(it->second, ids[0]) << "not sticky for " << key;
      }
    }
    EXPECT_GT(seen.size(), 1u);
  }
}

TEST(TopicIndex, CustomPicker) {
  subscription_index index;
  std::atomic<int> calls{0};
  index.strategy([&](const share_pick_input& in) {
    ++calls;
    EXPECT_EQ(in.group, "g");
    EXPECT_EQ(in.topic, "t");
    EXPECT_EQ(in.members.size(), 3u);
    return in.members.size() - 1 + in.members.size() * 5;  // taken modulo the count
  });
  for (subscriber_id s = 1; s <= 3; ++s) ASSERT_TRUE(index.subscribe("$share/g/t", s).ok());
  EXPECT_THAT(who(index, "t"), ElementsAre(3));
  EXPECT_EQ(calls, 1);
  index.strategy(share_strategy::round_robin);
  EXPECT_THAT(who(index, "t"), ElementsAre(2));  // the group's counter went on: message 1
}

TEST(TopicIndex, ClearAndMove) {
  subscription_index index = with({{"a", 1}, {"$share/g/a", 2}});
  subscription_index moved = std::move(index);
  EXPECT_THAT(who(moved, "a"), ElementsAre(1, 2));
  EXPECT_GT(moved.memory_usage(), 0u);
  moved.clear();
  EXPECT_EQ(moved.size(), 0u);
  EXPECT_THAT(who(moved, "a"), IsEmpty());
}

// Lookups on several threads while another thread subscribes and unsubscribes:
// the stable subscriptions are always found, the churning ones never corrupt.
TEST(TopicIndex, ConcurrentMatchDuringUpdates) {
  subscription_index index;
  for (subscriber_id s = 0; s < 200; ++s) {
    ASSERT_TRUE(index.subscribe("stable/" + std::to_string(s) + "/#", s).ok());
  }
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::vector<match_entry> out;
      for (int i = 0; !stop.load(); ++i) {
        const int s = (i * 7 + t) % 200;
        out.clear();
        index.match("stable/" + std::to_string(s) + "/x/y", out);
        const bool ok = std::count_if(out.begin(), out.end(), [&](const match_entry& e) {
                          return e.subscriber == static_cast<subscriber_id>(s);
                        }) == 1;
        if (!ok) ++failures;
      }
    });
  }
  for (int round = 0; round < 2000; ++round) {
    const std::string f = "stable/" + std::to_string(round % 200) + "/x/+";
    ASSERT_TRUE(index.subscribe(f, 1000 + static_cast<subscriber_id>(round)).ok());
    ASSERT_TRUE(index.unsubscribe(f, 1000 + static_cast<subscriber_id>(round)));
  }
  stop = true;
  for (auto& r : readers) r.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(index.size(), 200u);
}

// Filters live in one of two places: the shape table (one probe per '+' pattern)
// or the trie (patterns beyond max_wildcard_shapes, long or deep filters). A
// filter stays where it is while it has subscribers, even when its pattern later
// fits the table, and is reported once.
TEST(TopicIndex, WildcardPatternsBeyondTheBudgetGoToTheTrie) {
  subscription_index index;
  index.max_wildcard_shapes(1);
  EXPECT_EQ(index.max_wildcard_shapes(), 1u);
  const std::size_t empty_nodes = index.node_count();
  ASSERT_TRUE(index.subscribe("a/+/c", 1).value());  // the one '+' pattern of the table
  ASSERT_TRUE(index.subscribe("+/b/c", 2).value());  // second pattern: trie
  ASSERT_TRUE(index.subscribe("x/+/z", 3).value());  // first pattern again: table
  ASSERT_TRUE(index.subscribe("a/b/#", 4).value());  // no '+': always the table
  EXPECT_THAT(who(index, "a/b/c"), ElementsAre(1, 2, 4));
  EXPECT_THAT(who(index, "x/b/z"), ElementsAre(3));
  EXPECT_TRUE(index.unsubscribe("a/+/c", 1));
  EXPECT_TRUE(index.unsubscribe("x/+/z", 3));        // the table's pattern is free again
  ASSERT_TRUE(index.subscribe("+/b/c", 5).value());  // joins filter "+/b/c" in the trie
  ASSERT_TRUE(index.subscribe("+/b/d", 6).value());  // a new filter: the table
  EXPECT_FALSE(index.subscribe("+/b/c", 5, {.qos = 2}).value());
  std::vector<match_entry> out;
  index.match("a/b/c", out);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_THAT(who(index, "a/b/c"), ElementsAre(2, 4, 5));
  EXPECT_THAT(who(index, "q/b/d"), ElementsAre(6));
  EXPECT_FALSE(index.unsubscribe("+/b/c", 6));
  EXPECT_TRUE(index.unsubscribe("+/b/c", 2));
  EXPECT_TRUE(index.unsubscribe("+/b/c", 5));
  EXPECT_TRUE(index.unsubscribe("+/b/d", 6));
  EXPECT_TRUE(index.unsubscribe("a/b/#", 4));
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.node_count(), empty_nodes);
  EXPECT_THAT(who(index, "a/b/c"), IsEmpty());
}

TEST(TopicIndex, LongAndDeepFiltersMatch) {
  subscription_index index;
  const std::string long_level(600, 'x');
  std::string deep, deep_topic;
  for (int i = 0; i < 40; ++i) {
    deep += (i ? "/" : "") + std::string(i == 20 ? "+" : "d");
    deep_topic += (i ? "/" : "") + std::string{"d"};
  }
  ASSERT_TRUE(index.subscribe("a/" + long_level, 1).value());
  ASSERT_TRUE(index.subscribe("+/" + long_level, 2).value());
  ASSERT_TRUE(index.subscribe(deep, 3).value());
  ASSERT_TRUE(index.subscribe(deep_topic.substr(0, 69) + "/#", 4).value());
  ASSERT_TRUE(index.subscribe("d/#", 5).value());
  EXPECT_THAT(who(index, "a/" + long_level), ElementsAre(1, 2));
  EXPECT_THAT(who(index, deep_topic), ElementsAre(3, 4, 5));
  EXPECT_THAT(who(index, deep_topic + "/d"), ElementsAre(4, 5));
  EXPECT_TRUE(index.unsubscribe("a/" + long_level, 1));
  EXPECT_TRUE(index.unsubscribe(deep, 3));
  EXPECT_THAT(who(index, "a/" + long_level), ElementsAre(2));
  EXPECT_THAT(who(index, deep_topic), ElementsAre(4, 5));
}

// Topics whose keys land on the same slots as other filters' keys: the text
// comparison keeps '+' and '#' patterns and exact filters apart.
TEST(TopicIndex, PatternsOfOneTopicAreKeptApart) {
  subscription_index index;
  ASSERT_TRUE(index.subscribe("a/b", 1).value());
  ASSERT_TRUE(index.subscribe("a/+", 2).value());
  ASSERT_TRUE(index.subscribe("+/b", 3).value());
  ASSERT_TRUE(index.subscribe("+/+", 4).value());
  ASSERT_TRUE(index.subscribe("a/#", 5).value());
  ASSERT_TRUE(index.subscribe("#", 6).value());
  ASSERT_TRUE(index.subscribe("a/b/#", 7).value());
  ASSERT_TRUE(index.subscribe("b/a", 8).value());
  EXPECT_THAT(who(index, "a/b"), ElementsAre(1, 2, 3, 4, 5, 6, 7));
  EXPECT_THAT(who(index, "b/a"), ElementsAre(4, 6, 8));
  EXPECT_THAT(who(index, "a"), ElementsAre(5, 6));
  EXPECT_THAT(who(index, "$a/b"), IsEmpty());  // MQTT-4.7.2-1
  ASSERT_TRUE(index.subscribe("$a/+", 9).value());
  EXPECT_THAT(who(index, "$a/b"), ElementsAre(9));
}

// The batch overload on what makes a lookup take more than one round: a topic
// deeper than 32 levels, more wildcard patterns than one round of probes holds
// (45 for the 20-level topic), '$' topics, filters in the trie, empty batches.
TEST(TopicIndex, BatchMatchesEachTopicLikeOneLookup) {
  subscription_index index;
  std::string deep, deep_topic;
  for (int i = 0; i < 20; ++i) deep_topic += (i ? "/" : "") + std::string{"d"};
  subscriber_id next = 1;
  for (int d = 0; d <= 20; ++d) {  // '#' patterns of every depth
    const std::string f = d == 0 ? "#" : deep_topic.substr(0, 2 * d - 1) + "/#";
    ASSERT_TRUE(index.subscribe(f, next++).value()) << f;
  }
  for (int i = 0; i < 20; ++i) {  // '+' at every level
    std::string f = deep_topic;
    f[static_cast<std::size_t>(2 * i)] = '+';
    ASSERT_TRUE(index.subscribe(f, next++).value());
  }
  ASSERT_TRUE(index.subscribe(deep_topic, next++).value());
  ASSERT_TRUE(index.subscribe("$share/g/d/+", next++).value());  // trie
  ASSERT_TRUE(index.subscribe("$SYS/+", next++).value());
  std::string deeper = deep_topic;
  for (int i = 0; i < 30; ++i) deeper += "/e";
  const std::vector<std::string> topics = {deep_topic, "d",    "d/x",      deeper,
                                           "$SYS/x",   "$SYS", deep_topic, "x/y"};
  std::vector<std::string_view> views(topics.begin(), topics.end());
  for (int round = 0; round < 3; ++round) views.insert(views.end(), views.begin(), views.end());
  std::vector<match_entry> out;
  std::vector<std::size_t> ends;
  index.match(views, out, ends);
  ASSERT_EQ(ends.size(), views.size());
  std::size_t from = 0;
  for (std::size_t i = 0; i < views.size(); ++i) {
    std::vector<subscriber_id> got;
    for (std::size_t k = from; k < ends[i]; ++k) got.push_back(out[k].subscriber);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, who(index, views[i])) << "'" << views[i] << "'";
    from = ends[i];
  }
  EXPECT_EQ(who(index, deep_topic).size(), 21u + 20u + 1u);
  EXPECT_EQ(who(index, deeper).size(), 21u);
  index.match({}, out, ends);
  EXPECT_EQ(ends.size(), views.size());
}

// Past 2^18 table slots a batch reads a Bloom filter of the table first; single
// lookups do not. Both must agree on a large index, also after removals (which
// leave stale bits until the filter is rebuilt) and re-subscriptions.
TEST(TopicIndex, BatchOnALargeIndexAgreesWithSingleLookups) {
  subscription_index index;
  auto filter = [](std::uint32_t i) {
    const std::string base =
        "o" + std::to_string(i % 97) + "/s" + std::to_string(i % 89) + "/d" + std::to_string(i);
    switch (i % 4) {
      case 0: return base;
      case 1: return base + "/+";
      case 2: return base + "/#";
      default: return "o" + std::to_string(i % 97) + "/+/d" + std::to_string(i);
    }
  };
  constexpr std::uint32_t n = 240'000;
  for (std::uint32_t i = 0; i < n; ++i) ASSERT_TRUE(index.subscribe(filter(i), i).ok());
  std::vector<std::string> topics;
  for (std::uint32_t i = 0; i < 4'000; ++i) {
    const std::uint32_t d = i * 61 % (n + 5'000);  // some devices that nobody subscribed
    topics.push_back("o" + std::to_string(d % 97) + "/s" + std::to_string(d % 89) + "/d" +
                     std::to_string(d) + (i % 2 ? "/x" : ""));
  }
  const std::vector<std::string_view> views(topics.begin(), topics.end());
  auto agree = [&](const char* when) {
    std::vector<match_entry> out;
    std::vector<std::size_t> ends;
    index.match(views, out, ends);
    ASSERT_EQ(ends.size(), views.size());
    std::size_t from = 0, total = 0;
    for (std::size_t i = 0; i < views.size(); ++i) {
      std::vector<subscriber_id> got;
      for (std::size_t k = from; k < ends[i]; ++k) got.push_back(out[k].subscriber);
      std::sort(got.begin(), got.end());
      ASSERT_EQ(got, who(index, views[i])) << when << ": '" << views[i] << "'";
      total += got.size();
      from = ends[i];
    }
    EXPECT_GT(total, views.size() / 10) << when;  // the topics do match something
  };
  agree("built");
  for (std::uint32_t i = 0; i < n; ++i) {
    if (i % 5 != 0) {
      ASSERT_TRUE(index.unsubscribe(filter(i), i));
    }
  }
  agree("after removing 80 %");
  for (std::uint32_t i = 0; i < n; i += 2) {
    if (i % 5 != 0) {
      ASSERT_TRUE(index.subscribe(filter(i), i).ok());
    }
  }
  agree("after subscribing again");
}

}  // namespace
}  // namespace iotblocks::topic
