// The detector interface, make_detector, and the ensemble detector's behaviour.
#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/pewma.hpp>

#include <gtest/gtest.h>

#include "anomaly/noise.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace iotblocks::anomaly {
namespace {

using testing::noise;

constexpr std::int64_t five_minutes = 300'000;

TEST(Registry, NamesParametersAndErrors) {
  const auto names = detector_names();
  ASSERT_EQ(names.front(), "ensemble");  // best NAB score first
  for (auto name : names) {
    const auto d = make_detector(name).value();
    EXPECT_EQ(d->name(), name);
    EXPECT_EQ(d->state_size() % 8, 0u);
    // parameters() rebuilds an identical detector.
    const auto again = make_detector(name, d->parameters()).value();
    EXPECT_EQ(again->parameters(), d->parameters());
  }
  EXPECT_EQ(make_detector("nope").error(), error::unknown_detector);
  auto bad = make_detector("pewma", "alpha0=0.9, bogus=1");
  EXPECT_EQ(bad.error(), error::invalid_parameter);
  EXPECT_EQ(bad.fail().where.column, 13u);
  EXPECT_EQ(make_detector("pewma", "alpha0").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("pewma", "alpha0=x").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("ensemble", "rest=-1").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("ensemble", "alpha=2").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("ewma", "alpha=0").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("pewma", "alpha0=0.9 beta=0.1").value()->parameters().substr(0, 20),
            "alpha0=0.9,beta=0.1,");
}

class EveryDetector : public ::testing::TestWithParam<const char*> {};

// keyed_store's direct PEWMA call finds PEWMA through as_pewma(), which works
// without RTTI (-fno-rtti): PEWMA answers itself, every other detector nullptr.
TEST(Registry, OnlyPewmaAnswersAsPewma) {
  for (auto name : detector_names()) {
    const auto d = make_detector(name).value();
    if (name == "pewma") {
      EXPECT_EQ(d->as_pewma(), d.get());
    } else {
      EXPECT_EQ(d->as_pewma(), nullptr) << name;
    }
  }
}

TEST_P(EveryDetector, RejectedValuesLeaveTheStateUntouched) {
  series s{make_detector(GetParam()).value()};
  for (int i = 0; i < 300; ++i) s.update(std::sin(i / 10.0), i * five_minutes).value();
  const byte_buffer before{s.state().begin(), s.state().end()};
  point_result r;
  EXPECT_EQ(s.update(std::nan(""), 0, r), error::non_finite_value);
  EXPECT_EQ(s.update(HUGE_VAL, 0, r), error::non_finite_value);
  EXPECT_EQ(s.update(1e200, 0, r), error::value_out_of_range);
  EXPECT_EQ(byte_buffer(s.state().begin(), s.state().end()), before);
}

TEST_P(EveryDetector, EncodeDecodeRoundTripsAndValidates) {
  const auto d = make_detector(GetParam()).value();
  series s{d};
  for (int i = 0; i < 500; ++i)
    s.update(10 + std::sin(i / 7.0) + (i == 400 ? 9 : 0), i * five_minutes).value();
  byte_buffer encoded;
  d->encode(s.state(), encoded);
  ASSERT_EQ(encoded.size(), d->encoded_size());
  series copy{d};
  ASSERT_FALSE(d->decode(encoded, copy.state()));
  byte_buffer again;
  d->encode(copy.state(), again);
  EXPECT_EQ(again, encoded);
  // Continues identically.
  for (int i = 500; i < 700; ++i) {
    const double x = 10 + std::cos(i / 5.0);
    EXPECT_EQ(s.update(x, i * five_minutes).value().score,
              copy.update(x, i * five_minutes).value().score);
  }
  // Wrong size, NaN in a field.
  EXPECT_EQ(d->decode(bytes_view{encoded}.first(encoded.size() - 1), copy.state()),
            error::invalid_snapshot);
  byte_buffer nan = encoded;  // a NaN in the variance (ewma, pewma), range or EWMA mean
  const std::string_view name = GetParam();
  const int at = name == "ensemble" || name == "bocpd" ? 16 : 8;
  for (int i = at; i < at + 8; ++i) nan[i] = std::byte{0xFF};
  EXPECT_EQ(d->decode(nan, copy.state()), error::invalid_snapshot);
  // A fresh state encodes and decodes too.
  series fresh{d};
  byte_buffer f;
  d->encode(fresh.state(), f);
  EXPECT_FALSE(d->decode(f, copy.state()));
}

TEST_P(EveryDetector, ExtremeValuesKeepStatesEncodable) {
  const auto d = make_detector(GetParam()).value();
  series s{d};
  const double xs[] = {1e150, -1e150, 1e-300, 0, 1e150, 5e-324, -1e150, 1, 1e150};
  for (int round = 0; round < 400; ++round) {
    for (double x : xs) {
      const auto r = s.update(x, round * five_minutes).value();
      ASSERT_FALSE(std::isnan(r.score));
      ASSERT_GE(r.score, 0.0);
      ASSERT_LE(r.score, 1.0);
      ASSERT_GE(r.raw, 0.0);
    }
    byte_buffer e;
    d->encode(s.state(), e);
    series copy{d};
    ASSERT_FALSE(d->decode(e, copy.state())) << "round " << round;
  }
}

// Scores are in [0, 1], rank like the raw statistic, and a spike far outside a
// noisy series scores high (near 1; bocpd: at least its alarm, 0.5, because a
// point that far out may be a new regime) and is flagged, while the noise before it
// rarely scores as high.
TEST_P(EveryDetector, ScoresAreInTheUnitIntervalAndRankLikeTheRawStatistic) {
  const auto d = make_detector(GetParam()).value();
  series s{d};
  std::mt19937_64 rng{7};
  std::normal_distribution<double> g{20, 1};
  std::vector<point_result> out;
  for (int i = 0; i < 3000; ++i) {
    const double x = i == 2500 ? 60.0 : g(rng);
    out.push_back(s.update(x, i * five_minutes).value());
  }
  const double high = std::string_view(GetParam()) == "bocpd" ? 0.5 : 0.9;
  int high_noise = 0;
  for (int i = 0; i < 3000; ++i) {
    const auto& r = out[static_cast<std::size_t>(i)];
    ASSERT_GE(r.score, 0.0) << i;
    ASSERT_LE(r.score, 1.0) << i;
    if (i >= 200 && i < 2500) high_noise += r.score >= high;
    for (int j = std::max(0, i - 5); j < i; ++j) {  // a monotone function of raw
      const auto& q = out[static_cast<std::size_t>(j)];
      if (q.raw < r.raw) {
        EXPECT_LE(q.score, r.score) << j << " " << i;
      }
    }
  }
  const auto& spike = out[2500];
  EXPECT_TRUE(spike.anomaly);
  EXPECT_GE(spike.score, high);
  EXPECT_LT(high_noise, 23);  // under 1% of the noise scores as high as the spike
}

INSTANTIATE_TEST_SUITE_P(All, EveryDetector,
                         ::testing::Values("pewma", "ewma", "ensemble", "bocpd"));

TEST(Ensemble, FlagsASpikeOnceAndRestsAfterwards) {
  series s{make_detector("ensemble").value()};
  auto data = noise(3000, 50, 2, 1);
  data[2000] = 90;
  data[2001] = 88;
  std::vector<std::size_t> alarms;
  for (std::size_t i = 0; i < data.size(); ++i) {
    const auto r = s.update(data[i], static_cast<std::int64_t>(i) * five_minutes).value();
    if (i < 100) {  // training=100 by default
      EXPECT_TRUE(r.warming_up);
      EXPECT_EQ(r.score, 0.0);
    }
    if (r.anomaly) alarms.push_back(i);
    if (i == 2001) {
      EXPECT_EQ(r.score, 0.0);  // inside the rest period
    }
  }
  ASSERT_FALSE(alarms.empty());
  EXPECT_NE(std::find(alarms.begin(), alarms.end(), 2000u), alarms.end());
  EXPECT_LE(alarms.size(), 6u);  // Gaussian noise alone rarely alarms
}

TEST(Ensemble, FlagsALevelShiftAndAMissingDailyPeak) {
  // Daily square wave (5-minute points): high from 08:00 to 18:00, plus noise.
  auto day = [](std::size_t i) {
    const std::size_t minute = (i * 5) % 1440;
    return minute >= 480 && minute < 1080 ? 80.0 : 20.0;
  };
  const auto eps = noise(288 * 20, 0, 1, 2);
  series s{make_detector("ensemble").value()};
  std::size_t first_alarm_on_day_15 = 0;
  for (std::size_t i = 0; i < eps.size(); ++i) {
    double x = day(i) + eps[i];
    const bool day15 = i / 288 == 15;
    if (day15) x = 20 + eps[i];  // the peak never comes
    const auto r = s.update(x, static_cast<std::int64_t>(i) * five_minutes).value();
    if (i >= 288 * 3 && !day15 && i / 288 != 16) {
      EXPECT_FALSE(r.anomaly) << "day " << i / 288 << " minute " << (i * 5) % 1440;
    }
    if (day15 && r.anomaly && first_alarm_on_day_15 == 0) first_alarm_on_day_15 = i % 288;
  }
  // Seen within an hour of 08:00, when the peak should have started.
  EXPECT_GE(first_alarm_on_day_15, 96u);
  EXPECT_LE(first_alarm_on_day_15, 108u);
}

TEST(Ensemble, WorksWithoutTimestamps) {
  series s{make_detector("ensemble").value()};
  const auto data = noise(2000, 5, 1, 3);
  std::size_t alarms = 0;
  for (std::size_t i = 0; i < data.size(); ++i) {
    alarms += s.update(i == 1500 ? 25 : data[i]).value().anomaly;
  }
  EXPECT_GE(alarms, 1u);
  EXPECT_LE(alarms, 4u);
}

// fast_level=1: a second level feature (a short mean at 2 level_alpha) with its own
// ranking, in 512 more bytes after the rest of the state. The detector contract holds:
// bounded scores, NaN refused with the state untouched, an encode/decode round trip
// that continues identically, deterministic output; fast_level=0 keeps the default's
// state and snapshot format.
TEST(Ensemble, FastLevelKeepsTheDetectorContract) {
  EXPECT_EQ(make_detector("ensemble", "fast_level=2").error(), error::invalid_parameter);
  const auto d = make_detector("ensemble", "fast_level=1").value();
  EXPECT_EQ(make_detector("ensemble", d->parameters()).value()->parameters(), d->parameters());
  const auto plain = make_detector("ensemble").value();
  EXPECT_EQ(make_detector("ensemble", "fast_level=0").value()->parameters(), plain->parameters());
  EXPECT_EQ(d->state_size(), plain->state_size() + 512);
  EXPECT_LE(d->state_size(), 4096u);
  EXPECT_EQ(d->encoded_size(), plain->encoded_size() + 512);
  series s{d}, twin{d}, one{plain};
  auto data = noise(3000, 50, 2, 4);
  for (std::size_t i = 2000; i < 2040; ++i) data[i] += 4;  // a short level shift of 2 sd
  bool flagged = false, differs = false;
  for (std::size_t i = 0; i < 2500; ++i) {
    const auto t = static_cast<std::int64_t>(i) * five_minutes;
    const auto r = s.update(data[i], t).value();
    EXPECT_EQ(r.raw, twin.update(data[i], t).value().raw);
    ASSERT_GE(r.score, 0.0);
    ASSERT_LE(r.score, 1.0);
    if (i >= 2000 && i < 2040) flagged |= r.anomaly;
    differs |= r.raw != one.update(data[i], t).value().raw;
  }
  EXPECT_TRUE(flagged);
  EXPECT_TRUE(differs);  // the fifth feature takes part
  const byte_buffer before{s.state().begin(), s.state().end()};
  point_result r;
  EXPECT_EQ(s.update(std::nan(""), 0, r), error::non_finite_value);
  EXPECT_EQ(s.update(1e200, 0, r), error::value_out_of_range);
  EXPECT_EQ(byte_buffer(s.state().begin(), s.state().end()), before);
  byte_buffer encoded;
  d->encode(s.state(), encoded);
  ASSERT_EQ(encoded.size(), d->encoded_size());
  series copy{d};
  ASSERT_FALSE(d->decode(encoded, copy.state()));
  byte_buffer again;
  d->encode(copy.state(), again);
  EXPECT_EQ(again, encoded);
  for (std::size_t i = 2500; i < 3000; ++i) {
    const auto t = static_cast<std::int64_t>(i) * five_minutes;
    EXPECT_EQ(s.update(data[i], t).value().raw, copy.update(data[i], t).value().raw);
  }
  // A state without the fast level is refused, and so is a NaN in its mean.
  byte_buffer short_state;
  plain->encode(one.state(), short_state);
  EXPECT_EQ(d->decode(short_state, copy.state()), error::invalid_snapshot);
  const std::size_t mean_at = plain->encoded_size();
  for (std::size_t i = mean_at; i < mean_at + 8; ++i) encoded[i] = std::byte{0xFF};
  EXPECT_EQ(d->decode(encoded, copy.state()), error::invalid_snapshot);
}

// fast_residual=1: a residual against a faster baseline (EWMA at 4 alpha) with its own
// ranking, in 520 more bytes after the rest of the state; it excludes fast_level=1 (one
// fifth feature, so the state stays under 4 KiB). Same contract as the fast level.
TEST(Ensemble, FastResidualKeepsTheDetectorContract) {
  EXPECT_EQ(make_detector("ensemble", "fast_residual=2").error(), error::invalid_parameter);
  EXPECT_EQ(make_detector("ensemble", "fast_residual=1,fast_level=1").error(),
            error::invalid_parameter);
  const auto d = make_detector("ensemble", "fast_residual=1").value();
  EXPECT_EQ(make_detector("ensemble", d->parameters()).value()->parameters(), d->parameters());
  const auto plain = make_detector("ensemble").value();
  EXPECT_EQ(make_detector("ensemble", "fast_residual=0").value()->parameters(),
            plain->parameters());
  EXPECT_EQ(d->state_size(), plain->state_size() + 520);
  EXPECT_LE(d->state_size(), 4096u);
  EXPECT_EQ(d->encoded_size(), plain->encoded_size() + 520);
  series s{d}, twin{d}, one{plain};
  auto data = noise(3000, 50, 2, 5);
  for (std::size_t i = 1500; i < 3000; ++i) data[i] += 10;  // a lasting step of 5 sd
  for (std::size_t i = 2000; i < 2003; ++i) data[i] += 8;   // later, a 3-point spike
  bool flagged = false, differs = false;
  for (std::size_t i = 0; i < 2500; ++i) {
    const auto t = static_cast<std::int64_t>(i) * five_minutes;
    const auto r = s.update(data[i], t).value();
    EXPECT_EQ(r.raw, twin.update(data[i], t).value().raw);
    ASSERT_GE(r.score, 0.0);
    ASSERT_LE(r.score, 1.0);
    if (i >= 2000 && i < 2003) flagged |= r.anomaly;
    differs |= r.raw != one.update(data[i], t).value().raw;
  }
  EXPECT_TRUE(flagged);
  EXPECT_TRUE(differs);  // the fifth feature takes part
  const byte_buffer before{s.state().begin(), s.state().end()};
  point_result r;
  EXPECT_EQ(s.update(std::nan(""), 0, r), error::non_finite_value);
  EXPECT_EQ(byte_buffer(s.state().begin(), s.state().end()), before);
  byte_buffer encoded;
  d->encode(s.state(), encoded);
  ASSERT_EQ(encoded.size(), d->encoded_size());
  series copy{d};
  ASSERT_FALSE(d->decode(encoded, copy.state()));
  byte_buffer again;
  d->encode(copy.state(), again);
  EXPECT_EQ(again, encoded);
  for (std::size_t i = 2500; i < 3000; ++i) {
    const auto t = static_cast<std::int64_t>(i) * five_minutes;
    EXPECT_EQ(s.update(data[i], t).value().raw, copy.update(data[i], t).value().raw);
  }
  // A state without the residual is refused, and so is a negative variance in it.
  byte_buffer short_state;
  plain->encode(one.state(), short_state);
  EXPECT_EQ(d->decode(short_state, copy.state()), error::invalid_snapshot);
  const std::size_t var_at = plain->encoded_size() + 8;
  const double negative = -1;
  std::memcpy(encoded.data() + var_at, &negative, 8);
  EXPECT_EQ(d->decode(encoded, copy.state()), error::invalid_snapshot);
}

}  // namespace
}  // namespace iotblocks::anomaly
