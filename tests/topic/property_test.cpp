// Property test: on random filters and topics ('$' topics, empty levels, '+',
// '#', shared groups, options, unsubscribes) the index reports exactly what the
// naive reference matcher (topic::matches, one filter at a time) reports, for
// single lookups and batches.
#include "topic/reference_index.hpp"

#include <iotblocks/topic/index.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace iotblocks::topic {
namespace {

class generator {
 public:
  explicit generator(std::uint32_t seed) : rng_(seed) {}

  std::string level() {
    static const char* vocab[] = {"a", "b", "c", "", "dev", "$SYS", "$x", "long-level-name-42"};
    return vocab[pick(8)];
  }
  std::string topic() {
    std::string t;
    const auto depth = 1 + pick(5);
    for (std::uint32_t i = 0; i < depth; ++i) t += (i ? "/" : "") + level();
    return t;
  }
  std::string filter() {
    std::string f;
    const auto depth = 1 + pick(5);
    for (std::uint32_t i = 0; i < depth; ++i) {
      if (i) f += '/';
      const auto r = pick(100);
      if (i + 1 == depth && r < 15) {
        f += '#';
      } else if (r < 45) {
        f += '+';
      } else {
        f += level();
      }
    }
    if (pick(100) < 15 && !f.empty()) f = "$share/g" + std::to_string(pick(3)) + "/" + f;
    return f;
  }
  subscription_options options(bool shared) {
    subscription_options o;
    o.qos = static_cast<std::uint8_t>(pick(3));
    o.no_local = !shared && pick(4) == 0;
    o.retain_as_published = pick(2) == 0;
    o.retain_handling = static_cast<std::uint8_t>(pick(3));
    o.identifier = pick(3) == 0 ? 0 : 1 + pick(268'435'454);
    return o;
  }
  std::uint32_t pick(std::uint32_t n) {
    return std::uniform_int_distribution<std::uint32_t>(0, n - 1)(rng_);
  }

 private:
  std::mt19937 rng_;
};

class TopicProperty : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(TopicProperty, IndexAgreesWithReferenceMatcher) {
  generator gen(GetParam());
  subscription_index index;
  index.strategy(static_cast<share_strategy>(GetParam() % 4));
  // Some seeds leave few or no '+' patterns to the shape table: the rest go to the trie.
  index.max_wildcard_shapes(GetParam() % 3 == 0 ? 0 : GetParam() % 3 == 1 ? 2 : 64);
  testing::reference_index ref;
  std::vector<std::string> filters;
  for (int step = 0; step < 3000; ++step) {
    const auto op = gen.pick(10);
    if (op < 5) {
      std::string f = gen.filter();
      if (validate_filter(f)) continue;  // e.g. an empty filter
      const subscriber_id s = gen.pick(12);
      const auto o = gen.options(is_shared(f));
      const auto added = index.subscribe(f, s, o);
      ASSERT_TRUE(added.ok()) << f << ": " << added.describe();
      ASSERT_EQ(*added, ref.subscribe(f, s, o)) << f;
      filters.push_back(std::move(f));
    } else if (op < 7 && !filters.empty()) {
      const std::string& f = filters[gen.pick(static_cast<std::uint32_t>(filters.size()))];
      const subscriber_id s = gen.pick(12);
      ASSERT_EQ(index.unsubscribe(f, s), ref.unsubscribe(f, s)) << f;
    } else if (op < 9) {
      const std::string t = gen.topic();
      const match_context ctx{.publisher = gen.pick(14), .publisher_client_id = "c"};
      const std::string diff = ref.check(index, t, ctx);
      ASSERT_TRUE(diff.empty()) << "seed " << GetParam() << " step " << step << ": " << diff;
    } else {  // a batch of 0 to 20 topics
      std::vector<std::string> topics(gen.pick(21));
      for (auto& t : topics) t = gen.topic();
      const std::vector<std::string_view> views(topics.begin(), topics.end());
      const match_context ctx{.publisher = gen.pick(14), .publisher_client_id = "c"};
      const std::string diff = ref.check_batch(index, views, ctx);
      ASSERT_TRUE(diff.empty()) << "seed " << GetParam() << " step " << step << ": " << diff;
    }
    ASSERT_EQ(index.size(), ref.size());
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, TopicProperty, ::testing::Range<std::uint32_t>(1, 17));

}  // namespace
}  // namespace iotblocks::topic
