// Series CSV, timestamps and detector parameter text on hostile input: errors,
// never crashes. Parsed series are run through every detector (and the ensemble
// with fast_level=1 and with fast_residual=1).
#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/series_csv.hpp>

#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iotblocks::anomaly;
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  if (auto points = parse_series_csv(text, {.max_rows = 10000, .max_line_length = 512})) {
    const auto run = [&](std::string_view name, std::string_view parameters) {
      series s{make_detector(name, parameters).value()};
      point_result r;
      for (const auto& p : *points) {
        if (s.update(p.value, p.time_ms, r)) continue;
        if (!(r.score >= 0 && r.score <= 1)) std::abort();  // scores are in [0, 1], never NaN
      }
    };
    for (auto name : detector_names()) run(name, "");
    run("ensemble", "fast_level=1");     // the option's fifth feature and extra state
    run("ensemble", "fast_residual=1");  // the other fifth feature
  } else if (!points.fail().where.known()) {
    std::abort();  // CSV errors always carry a position
  }
  (void)parse_timestamp(text.substr(0, 64));
  for (auto name : detector_names()) {
    if (auto d = make_detector(name, text)) {
      // Canonical parameters rebuild the same detector.
      auto again = make_detector(name, (*d)->parameters());
      if (!again || (*again)->parameters() != (*d)->parameters()) std::abort();
    }
  }
  return 0;
}
