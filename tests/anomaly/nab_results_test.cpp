// nab::export_results writes NAB's results layout: <dir>/<detector>/<category>/
// <detector>_<file>.csv with timestamp,value,anomaly_score,label.
#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace iotblocks::anomaly::nab {
namespace {

namespace fs = std::filesystem;

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("iotblocks_nab_export_" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

std::vector<std::string> lines_of(const fs::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  for (std::string f; std::getline(ss, f, ',');) out.push_back(f);
  return out;
}

TEST(NabExport, WritesNabsResultsLayout) {
  const auto c = load_corpus("tests/data/anomaly/nab").value();
  const auto model = make_detector("ewma").value();
  const auto files = run(*model, c);
  TempDir tmp;
  ASSERT_TRUE(export_results(tmp.path.string(), "ewma", c, files));
  for (std::size_t f = 0; f < c.files.size(); ++f) {
    const std::string stem = c.files[f].name.substr(5);  // "a.csv" of "hand/a.csv"
    const fs::path p = tmp.path / "ewma" / "hand" / ("ewma_" + stem);
    ASSERT_TRUE(fs::exists(p)) << p;
    const auto lines = lines_of(p);
    ASSERT_EQ(lines.size(), 101u);
    EXPECT_EQ(lines[0], "timestamp,value,anomaly_score,label");
    for (std::size_t i = 0; i < 100; ++i) {
      const auto fields = split(lines[i + 1]);
      ASSERT_EQ(fields.size(), 4u) << lines[i + 1];
      // Times back to the input's, values and scores exactly (shortest round trip).
      EXPECT_EQ(parse_timestamp(fields[0]).value(), c.files[f].points[i].time_ms);
      EXPECT_EQ(std::stod(fields[1]), c.files[f].points[i].value);
      EXPECT_EQ(std::stod(fields[2]), files[f].scores[i]);
      // The window covers rows 40..49, both ends inclusive.
      EXPECT_EQ(fields[3], i >= 40 && i <= 49 ? "1" : "0") << i;
    }
    EXPECT_EQ(split(lines[1])[0], "2020-01-01 00:00:00");
  }
}

TEST(NabExport, RejectsScoresOfAnotherCorpusAndBadNames) {
  const auto c = load_corpus("tests/data/anomaly/nab").value();
  auto files = run(*make_detector("ewma").value(), c);
  TempDir tmp;
  auto one = files;
  one.pop_back();
  EXPECT_EQ(export_results(tmp.path.string(), "ewma", c, one).error(), error::invalid_corpus);
  auto short_file = files;
  short_file[0].scores.pop_back();
  EXPECT_EQ(export_results(tmp.path.string(), "ewma", c, short_file).error(),
            error::invalid_corpus);
  EXPECT_EQ(export_results(tmp.path.string(), "../x", c, files).error(), error::invalid_corpus);
  EXPECT_FALSE(fs::exists(tmp.path / "ewma"));
}

}  // namespace
}  // namespace iotblocks::anomaly::nab
