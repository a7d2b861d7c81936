// topic::validate_name_fast and validate_filter_fast (added for the decoder's
// hot paths) must agree with validate_name and validate_filter on every input:
// exhaustively on short strings over an alphabet of the interesting bytes, and
// on long pseudo-random ones.
#include <iotblocks/topic/syntax.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace iotblocks::topic {
namespace {

const char alphabet[] = {'a', '/', '+', '#', '\0', '\xC3', '\xA9', '\xFF', '$'};
const limits limit_sets[] = {{65535, 256}, {65535, 0}, {65535, 1}, {65535, 2}, {6, 3}, {9, 256}};

void expect_same(const std::string& s) {
  for (const limits& l : limit_sets) {
    ASSERT_EQ(validate_name_fast(s, l), validate_name(s, l))
        << "name of " << s.size() << " bytes, max_length " << l.max_length << ", max_levels "
        << l.max_levels;
    ASSERT_EQ(validate_filter_fast(s, l), validate_filter(s, l))
        << "filter of " << s.size() << " bytes, max_length " << l.max_length << ", max_levels "
        << l.max_levels;
    const std::string shared = "$share/g/" + s;
    ASSERT_EQ(validate_filter_fast(shared, l), validate_filter(shared, l));
  }
}

TEST(TopicFastChecks, AgreeOnEveryShortString) {
  std::string s;
  for (std::size_t len = 0; len <= 4; ++len) {
    std::size_t combos = 1;
    for (std::size_t i = 0; i < len; ++i) combos *= sizeof alphabet;
    for (std::size_t k = 0; k < combos; ++k) {
      s.clear();
      for (std::size_t i = 0, x = k; i < len; ++i, x /= sizeof alphabet) {
        s.push_back(alphabet[x % sizeof alphabet]);
      }
      expect_same(s);
    }
  }
}

TEST(TopicFastChecks, AgreeOnLongStrings) {
  std::uint64_t state = 0x9E3779B97F4A7C15ull;  // fixed seed: the same strings every run
  auto next = [&state] {
    state ^= state << 13, state ^= state >> 7, state ^= state << 17;
    return state;
  };
  for (int round = 0; round < 20000; ++round) {
    const auto len = static_cast<std::size_t>(next() % 40);
    std::string s;
    for (std::size_t i = 0; i < len; ++i) {
      // Mostly plain letters and '/', sometimes one of the special bytes.
      const auto r = next() % 64;
      s.push_back(r < 40 ? static_cast<char>('a' + r % 26) : r < 56 ? '/' : alphabet[r % 9]);
    }
    expect_same(s);
  }
  expect_same("/topic/Greenhouse/LuxSensors/probe_1");
  expect_same("/topic/Greenhouse/LuxSensors/#");
  expect_same("+/+/+/#");
  expect_same(std::string(65535, 'a'));
  expect_same(std::string(65536, 'a'));
}

}  // namespace
}  // namespace iotblocks::topic
