// Loading a NAB corpus directory and running a detector over it.
#include "core/json.hpp"

#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

namespace iotblocks::anomaly::nab {
namespace {

namespace fs = std::filesystem;

failure corpus_error(std::string message) {
  return failure{error::invalid_corpus, std::move(message), {}};
}

result<std::string> read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return corpus_error("cannot read " + p.string());
  return std::string{std::istreambuf_iterator<char>(in), {}};
}

result<std::vector<cost_profile>> load_profiles(const fs::path& p) {
  auto text = read_file(p);
  if (!text) return std::move(text).take_failure();
  auto doc = json::parse(*text);
  if (!doc) return corpus_error(p.string() + ": " + doc.describe());
  if (!doc->IsObject()) return corpus_error(p.string() + ": not an object");
  std::vector<cost_profile> out;
  for (const auto& m : doc->GetObject()) {
    const auto* cost = json::find(m.value, "CostMatrix");
    if (cost == nullptr) return corpus_error(p.string() + ": profile without CostMatrix");
    auto tp = json::get_double(*cost, "tpWeight");
    auto fp = json::get_double(*cost, "fpWeight");
    auto fn = json::get_double(*cost, "fnWeight");
    if (!tp || !fp || !fn) return corpus_error(p.string() + ": CostMatrix needs tp/fp/fnWeight");
    out.push_back({std::string(json::view(m.name)), *tp, *fp, *fn});
  }
  return out;
}

}  // namespace

result<std::string> locate_corpus(std::span<const std::string> candidates) {
  if (const char* env = std::getenv("IOTBLOCKS_NAB_DATA"); env != nullptr && *env != 0) {
    return std::string(env);
  }
  std::string tried = "IOTBLOCKS_NAB_DATA (not set)";
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_directory(fs::path(c) / "data", ec)) return c;
    const auto abs = fs::absolute(c, ec);
    tried += ", " + c;
    if (!ec && abs.string() != c) tried += " (" + abs.lexically_normal().string() + ")";
  }
  return corpus_error("no NAB corpus found; tried " + tried +
                      "; pass the directory (--data) or set IOTBLOCKS_NAB_DATA");
}

result<corpus> load_corpus(const std::string& dir) {
  const fs::path root{dir};
  std::error_code ec;
  if (!fs::is_directory(root / "data", ec)) return corpus_error(dir + "/data is not a directory");
  auto labels_text = read_file(root / "labels" / "combined_windows.json");
  if (!labels_text) return std::move(labels_text).take_failure();
  auto labels = json::parse(*labels_text);
  if (!labels || !labels->IsObject()) {
    return corpus_error("labels/combined_windows.json: " +
                        (labels ? std::string("not an object") : labels.describe()));
  }
  corpus c;
  for (auto it = fs::recursive_directory_iterator(root / "data", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file() || it->path().extension() != ".csv") continue;
    data_file f;
    f.name = it->path().lexically_relative(root / "data").generic_string();
    auto text = read_file(it->path());
    if (!text) return std::move(text).take_failure();
    auto points = parse_series_csv(*text);
    if (!points) {
      failure fail = std::move(points).take_failure();
      fail.message = f.name + ": " + std::string{fail.message.view()};
      return fail;
    }
    f.points = std::move(*points);
    const auto* windows = json::find(*labels, f.name);
    if (windows == nullptr || !windows->IsArray()) return corpus_error("no labels for " + f.name);
    for (const auto& w : windows->GetArray()) {
      if (!w.IsArray() || w.Size() != 2 || !w[0].IsString() || !w[1].IsString()) {
        return corpus_error(f.name + ": a window is not [begin, end]");
      }
      auto b = parse_timestamp(json::view(w[0]));
      auto e = parse_timestamp(json::view(w[1]));
      if (!b || !e) return corpus_error(f.name + ": bad window timestamp");
      f.windows.push_back({*b, *e});
    }
    std::sort(f.windows.begin(), f.windows.end(),
              [](const window& a, const window& b) { return a.begin_ms < b.begin_ms; });
    c.files.push_back(std::move(f));
  }
  if (ec) return corpus_error(dir + "/data: " + ec.message());
  if (c.files.empty()) return corpus_error(dir + "/data has no .csv files");
  std::sort(c.files.begin(), c.files.end(),
            [](const data_file& a, const data_file& b) { return a.name < b.name; });
  if (fs::exists(root / "profiles.json", ec)) {
    auto profiles = load_profiles(root / "profiles.json");
    if (!profiles) return std::move(profiles).take_failure();
    c.profiles = std::move(*profiles);
  } else {
    c.profiles = standard_profiles();
  }
  return c;
}

std::vector<scored_file> run(const detector& model, const corpus& c, output what) {
  std::vector<scored_file> out;
  std::vector<std::uint64_t> storage((model.state_size() + 7) / 8);
  const mutable_bytes_view state{reinterpret_cast<std::byte*>(storage.data()), model.state_size()};
  for (const auto& f : c.files) {
    scored_file s;
    s.name = f.name;
    s.windows = f.windows;
    s.time_ms.reserve(f.points.size());
    s.scores.reserve(f.points.size());
    model.init(state);
    point_result r;
    for (const auto& p : f.points) {
      s.time_ms.push_back(p.time_ms);
      const bool rejected = static_cast<bool>(model.update(state, p.value, p.time_ms, r));
      s.scores.push_back(rejected ? 0.0 : what == output::flag ? (r.anomaly ? 1.0 : 0.0) : r.score);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace iotblocks::anomaly::nab
