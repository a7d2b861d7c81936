// `iotblocks anomaly ...`: score a series, run the NAB benchmark, list detectors.
#include "command.hpp"

#include <iotblocks/anomaly.hpp>

#include <fmt/format.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

namespace iotblocks::cli {
namespace {

struct detector_options {
  std::string name = "pewma";
  std::vector<std::string> sets;  // key=value
  std::string alpha0, beta, training, threshold;
};

void add_detector_options(CLI::App* cmd, detector_options& o) {
  cmd->add_option("--detector,-d", o.name, "Detector name (see `iotblocks anomaly detectors`)")
      ->capture_default_str();
  cmd->add_option("--set", o.sets, "Detector parameter key=value (repeatable)");
  cmd->add_option("--alpha0", o.alpha0, "PEWMA alpha_0 (default 0.95)");
  cmd->add_option("--beta", o.beta, "PEWMA beta (default 0.5)");
  cmd->add_option("--training,-T", o.training, "PEWMA training points T (default 30)");
  cmd->add_option("--threshold", o.threshold, "PEWMA threshold on P (default 0.002)");
}

std::shared_ptr<const anomaly::detector> build(const detector_options& o) {
  std::string params;
  auto add = [&](std::string_view key, const std::string& v) {
    if (!v.empty()) params += fmt::format("{}={},", key, v);
  };
  add("alpha0", o.alpha0);
  add("beta", o.beta);
  add("training", o.training);
  add("threshold", o.threshold);
  for (const auto& s : o.sets) params += s + ",";
  auto d = anomaly::make_detector(o.name, params);
  if (!d) throw error(usage, d.describe());
  return *d;
}

void put_number(rapidjson::Writer<rapidjson::StringBuffer>& w, const char* key, double v) {
  if (std::isnan(v)) return;  // not applicable to this detector
  w.Key(key);
  if (std::isfinite(v)) {
    w.Double(v);
  } else {
    w.Null();  // +-infinity (zero variance): JSON has no such number
  }
}

std::string iso_time(std::int64_t ms) {
  namespace chr = std::chrono;
  const chr::sys_time<chr::milliseconds> t{chr::milliseconds{ms}};
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(),
                     hms.subseconds().count());
}

void score_command(const detector_options& o, const std::string& input) {
  const auto model = build(o);
  const std::string text = read_input(input);
  auto points = anomaly::parse_series_csv(text);
  if (!points) throw error(bad_input, points.describe());
  bool has_time = false;
  for (const auto& p : *points) has_time |= p.time_ms != 0;
  anomaly::series s{model};
  rapidjson::StringBuffer buf;
  for (std::size_t i = 0; i < points->size(); ++i) {
    const auto& p = (*points)[i];
    anomaly::point_result r;
    if (auto ec = s.update(p.value, p.time_ms, r)) {
      throw error(bad_input, fmt::format("row {}: {}", i + 1, ec.message()));
    }
    buf.Clear();
    rapidjson::Writer<rapidjson::StringBuffer> w{buf};
    w.StartObject();
    if (has_time) {
      w.Key("timestamp");
      const std::string t = iso_time(p.time_ms);
      w.String(t.data(), static_cast<rapidjson::SizeType>(t.size()));
    }
    put_number(w, "value", r.value);
    put_number(w, "score", r.score);
    w.Key("anomaly");
    w.Bool(r.anomaly);
    if (r.warming_up) {
      w.Key("warming_up");
      w.Bool(true);
    }
    put_number(w, "mean", r.mean);
    put_number(w, "std", r.stddev);
    put_number(w, "lower", r.lower);
    put_number(w, "upper", r.upper);
    put_number(w, "z", r.z);
    put_number(w, "p", r.p);
    w.EndObject();
    print_line({buf.GetString(), buf.GetSize()});
  }
}

// --data, else $IOTBLOCKS_NAB_DATA, else data/nab from the current directory
// (the repository root), else the repository this CLI was built from.
std::string nab_data_dir(const std::string& given) {
  if (!given.empty()) return given;
  std::vector<std::string> candidates{"data/nab"};
#ifdef IOTBLOCKS_SOURCE_DIR
  candidates.push_back((std::filesystem::path(IOTBLOCKS_SOURCE_DIR) / "data" / "nab").string());
#endif
  auto dir = anomaly::nab::locate_corpus(candidates);
  if (!dir) throw error(bad_input, dir.describe());
  return *dir;
}

void nab_command(const std::vector<std::string>& names, const std::vector<std::string>& sets,
                 const std::string& given, bool json, bool per_file) {
  const std::string data = nab_data_dir(given);
  auto corpus = anomaly::nab::load_corpus(data);
  if (!corpus) {
    const bool from_env = given.empty() && std::getenv("IOTBLOCKS_NAB_DATA") != nullptr;
    throw error(bad_input, corpus.describe() + (from_env ? " (IOTBLOCKS_NAB_DATA)" : ""));
  }
  std::vector<std::string> detectors = names;
  if (detectors.empty() || (detectors.size() == 1 && detectors[0] == "all")) {
    detectors.clear();
    for (auto n : anomaly::detector_names()) detectors.emplace_back(n);
  }
  std::size_t rows = 0, windows = 0;
  for (const auto& f : corpus->files) rows += f.points.size(), windows += f.windows.size();
  if (!json) {
    print_line(fmt::format("NAB corpus {}: {} files, {} rows, {} windows", data,
                           corpus->files.size(), rows, windows));
    std::string header = "| detector |", rule = "|---|";
    for (const auto& p : corpus->profiles) header += " " + p.name + " |", rule += "---:|";
    print_line(header + " seconds |");
    print_line(rule + "---:|");
  }
  for (const auto& name : detectors) {
    detector_options o;
    o.name = name;
    o.sets = sets;
    const auto model = build(o);
    const auto start = std::chrono::steady_clock::now();
    const auto files = anomaly::nab::run(*model, *corpus);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::string line = "| " + name + " |";
    for (const auto& profile : corpus->profiles) {
      auto s = anomaly::nab::score(files, profile);
      if (!s) throw error(failed, s.describe());
      if (json) {
        print_line(fmt::format(
            R"({{"detector":"{}","profile":"{}","score":{:.2f},"raw":{:.4f},"null":{:.4f},)"
            R"("perfect":{:.4f},"threshold":{},"windows":{},"detected":{},"false_positives":{}}})",
            name, s->profile, s->normalized, s->raw, s->null_score, s->perfect_score,
            std::isfinite(s->threshold) ? fmt::format("{}", s->threshold) : "null", s->windows,
            s->detected_windows, s->false_positives));
      }
      line += fmt::format(" {:.1f} |", s->normalized);
      if (per_file && &profile == &corpus->profiles.front()) {
        auto parts = anomaly::nab::score_files(files, profile, s->threshold).value();
        for (const auto& f : parts) {
          print_line(fmt::format("  {:<52} windows {}/{} fp {:>3} raw {:+.3f}", f.name,
                                 f.detected_windows, f.windows, f.false_positives, f.raw));
        }
      }
    }
    if (!json) print_line(line + fmt::format(" {:.2f} |", seconds));
  }
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand("anomaly", "Streaming anomaly detection (PEWMA and others)");
  cmd->require_subcommand(1);

  static detector_options score_opts;
  static std::string input;
  auto* score = cmd->add_subcommand(
      "score", "Score a series (CSV: value or timestamp,value) and print one JSON line per point");
  add_detector_options(score, score_opts);
  score->add_option("input", input, "CSV file (default: standard input)");
  score->callback([] { score_command(score_opts, input); });

  static std::vector<std::string> nab_detectors, nab_sets;
  static std::string data;
  static bool json = false, per_file = false;
  auto* nab = cmd->add_subcommand("nab", "Run detectors over a NAB corpus and print the scores");
  nab->add_option("--detector,-d", nab_detectors, "Detector(s), or 'all' (default)");
  nab->add_option("--set", nab_sets, "Detector parameter key=value (repeatable)");
  nab->add_option("--data", data,
                  "NAB corpus directory (default: $IOTBLOCKS_NAB_DATA, else data/nab, else the "
                  "repository this CLI was built from)");
  nab->add_flag("--json", json, "One JSON line per detector and profile");
  nab->add_flag("--files", per_file, "Per-file breakdown (first profile, its best threshold)");
  nab->callback([] { nab_command(nab_detectors, nab_sets, data, json, per_file); });

  auto* list = cmd->add_subcommand("detectors", "List detectors with their default parameters");
  list->callback([] {
    for (auto n : anomaly::detector_names()) {
      auto d = anomaly::make_detector(n).value();
      print_line(fmt::format(R"({{"name":"{}","parameters":"{}","state_bytes":{}}})", n,
                             d->parameters(), d->state_size()));
    }
  });
}

const registrar reg{40, &setup};

}  // namespace
}  // namespace iotblocks::cli
