// anomaly_nab [corpus-dir] [detector...]: the NAB table (normalised score per
// profile, threshold, detected windows, false positives) and each detector's
// throughput over the corpus. Default corpus: $IOTBLOCKS_NAB_DATA, else
// data/nab, else the repository's data/nab (see nab::locate_corpus).
#include <iotblocks/anomaly.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  using namespace iotblocks::anomaly;
  std::string dir = argc > 1 ? argv[1] : "";
  if (dir.empty()) {
    const std::string candidates[] = {"data/nab", IOTBLOCKS_SOURCE_DIR "/data/nab"};
    auto found = nab::locate_corpus(candidates);
    if (!found) {
      std::fprintf(stderr, "anomaly_nab: %s\n", found.describe().c_str());
      return 1;
    }
    dir = *found;
  }
  std::vector<std::string> names;
  for (int i = 2; i < argc; ++i) names.emplace_back(argv[i]);
  if (names.empty()) {
    for (auto n : detector_names()) names.emplace_back(n);
  }
  auto corpus = nab::load_corpus(dir);
  if (!corpus) {
    std::fprintf(stderr, "anomaly_nab: %s\n", corpus.describe().c_str());
    return 1;
  }
  std::size_t rows = 0, windows = 0;
  for (const auto& f : corpus->files) rows += f.points.size(), windows += f.windows.size();
  std::printf("corpus %s: %zu files, %zu rows, %zu windows\n\n", dir.c_str(), corpus->files.size(),
              rows, windows);
  std::printf("| detector |");
  for (const auto& p : corpus->profiles) std::printf(" %s |", p.name.c_str());
  std::printf(" windows found (standard) | false positives | M points/s | state bytes |\n|---|");
  for (std::size_t i = 0; i < corpus->profiles.size(); ++i) std::printf("---:|");
  std::printf("---:|---:|---:|---:|\n");
  for (const auto& name : names) {
    auto model = make_detector(name);
    if (!model) {
      std::fprintf(stderr, "anomaly_nab: %s\n", model.describe().c_str());
      return 1;
    }
    // Best of three runs in process CPU time (the machine may be shared); the
    // scores do not change between runs.
    double best = 1e300;
    std::vector<nab::scored_file> files;
    for (int run = 0; run < 3; ++run) {
      const std::clock_t t0 = std::clock();
      files = nab::run(**model, *corpus);
      best = std::min(best, static_cast<double>(std::clock() - t0) / CLOCKS_PER_SEC);
    }
    std::printf("| %s |", name.c_str());
    std::size_t found = 0, fps = 0;
    for (const auto& p : corpus->profiles) {
      auto s = nab::score(files, p).value();
      std::printf(" %.1f |", s.normalized);
      if (&p == &corpus->profiles.front()) found = s.detected_windows, fps = s.false_positives;
    }
    std::printf(" %zu / %zu | %zu | %.1f | %zu |\n", found, windows, fps,
                static_cast<double>(rows) / best / 1e6, (*model)->state_size());
  }
  return 0;
}
