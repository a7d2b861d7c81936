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
namespace IOTBLOCKS_CLI_UNIT {

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
    put_number(w, "raw", r.raw);
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

struct nab_options {
  std::vector<std::string> detectors, sets, grid;
  std::string data, export_dir, folds, select = "pooled", profile;
  bool json = false, per_file = false, search = false, flags = false;
  double margin = 0;
};

anomaly::nab::output output_of(const nab_options& o) {
  return o.flags ? anomaly::nab::output::flag : anomaly::nab::output::score;
}

// Every combination of the --grid axes ("key=v1,v2,...") on top of --set.
std::vector<std::string> grid_candidates(const nab_options& o) {
  std::string base;
  for (const auto& s : o.sets) base += s + ",";
  std::vector<std::string> out{base};
  for (const auto& axis : o.grid) {
    const auto eq = axis.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == axis.size()) {
      throw error(usage, fmt::format("--grid {}: expected key=v1,v2,...", axis));
    }
    const std::string key = axis.substr(0, eq);
    std::vector<std::string> next;
    for (const auto& c : out) {
      std::size_t at = eq + 1;
      while (at <= axis.size()) {
        const auto end = std::min(axis.find(',', at), axis.size());
        if (end > at) next.push_back(c + key + "=" + axis.substr(at, end - at) + ",");
        at = end + 1;
      }
    }
    out = std::move(next);
  }
  return out;
}

// A threshold as JSON: +inf (nothing detected) has no JSON number.
std::string json_threshold(double t) {
  return std::isfinite(t) ? fmt::format("{}", t) : std::string("null");
}

anomaly::nab::selection selection_rule(const nab_options& o) {
  if (o.select == "inner") return anomaly::nab::selection::inner_folds;
  if (o.select == "worst") return anomaly::nab::selection::worst_fold;
  if (o.select != "pooled") throw error(usage, "--select: 'pooled', 'inner' or 'worst'");
  return anomaly::nab::selection::best_pooled;
}

const char* rule_name(anomaly::nab::selection rule) {
  switch (rule) {
    case anomaly::nab::selection::inner_folds: return "inner folds";
    case anomaly::nab::selection::worst_fold: return "worst inner fold";
    default: return "pooled score";
  }
}

// What an inner rule maximised.
const char* merit_name(anomaly::nab::selection rule) {
  return rule == anomaly::nab::selection::worst_fold ? "worst inner held-out" : "inner held-out";
}

// --search: the --grid axes searched coordinate-wise (from each axis' first value),
// the whole search run inside every fold.
void search_command(const nab_options& o, const anomaly::nab::corpus& corpus,
                    const std::vector<std::string>& detectors) {
  anomaly::nab::search_options options;
  options.rule = selection_rule(o);
  options.what = output_of(o);
  options.margin = o.margin;
  for (const auto& s : o.sets) options.base += s + ",";
  std::vector<anomaly::nab::axis> axes;
  for (const auto& g : o.grid) {
    const auto eq = g.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == g.size()) {
      throw error(usage, fmt::format("--grid {}: expected key=v1,v2,...", g));
    }
    anomaly::nab::axis a{g.substr(0, eq), {}};
    for (std::size_t at = eq + 1; at <= g.size();) {
      const auto end = std::min(g.find(',', at), g.size());
      if (end > at) a.values.push_back(g.substr(at, end - at));
      at = end + 1;
    }
    axes.push_back(std::move(a));
  }
  const bool inner = options.rule != anomaly::nab::selection::best_pooled;
  for (const auto& name : detectors) {
    for (const auto& profile : corpus.profiles) {
      auto v = anomaly::nab::validate_search(name, axes, corpus, profile, options);
      if (!v)
        throw error(v.error() == anomaly::error::invalid_parameter ||
                            v.error() == anomaly::error::unknown_detector
                        ? usage
                        : failed,
                    v.describe());
      if (o.json) {
        for (const auto& f : v->folds) {
          print_line(
              fmt::format(R"({{"detector":"{}","profile":"{}","held_out":"{}","parameters":"{}",)"
                          R"("threshold":{},"train":{:.2f},"merit":{:.2f},"score":{:.2f},)"
                          R"("in_sample":{:.2f},"raw":{:.4f},"windows":{},"detected":{},)"
                          R"("false_positives":{}}})",
                          name, v->profile, f.held_out, f.parameters, json_threshold(f.threshold),
                          f.train, f.inner, f.held_out_score, f.in_sample, f.held_out_raw,
                          f.windows, f.detected, f.false_positives));
        }
        print_line(fmt::format(
            R"({{"detector":"{}","profile":"{}","parameters":"{}","threshold":{},)"
            R"("in_sample":{:.2f},"merit":{:.2f},"held_out_pooled":{:.2f},"select":"{}",)"
            R"("search":true,"margin":{}}})",
            name, v->profile, v->whole.parameters, json_threshold(v->whole.threshold),
            v->whole.score, v->whole.merit, v->held_out, o.select, o.margin));
        continue;
      }
      print_line(fmt::format(
          "{} {}: searched on the whole corpus {} (threshold {:.4f}), in-sample {:.1f}{}, "
          "{} parameter sets tried (chosen by {}, margin {}); nested held-out pooled {:.1f}",
          name, v->profile, v->whole.parameters, v->whole.threshold, v->whole.score,
          inner ? fmt::format(", {} {:.1f}", merit_name(options.rule), v->whole.merit)
                : std::string(),
          v->whole.evaluated, rule_name(options.rule), o.margin, v->held_out));
      print_line(
          fmt::format("| held out | train{} | held-out score | in-sample | windows found | "
                      "FP | threshold | parameters chosen without it |",
                      inner ? " (inner)" : ""));
      print_line("|---|---:|---:|---:|---:|---:|---:|---|");
      for (const auto& f : v->folds) {
        const bool scorable = f.windows > 0;
        print_line(
            fmt::format("| {} | {} | {} | {} | {}/{} | {} | {:.4f} | {} |", f.held_out,
                        inner ? fmt::format("{:.1f} ({:.1f})", f.train, f.inner)
                              : fmt::format("{:.1f}", f.train),
                        scorable ? fmt::format("{:.1f}", f.held_out_score) : std::string("-"),
                        scorable ? fmt::format("{:.1f}", f.in_sample) : std::string("-"),
                        f.detected, f.windows, f.false_positives, f.threshold, f.parameters));
      }
    }
  }
}

void folds_command(const nab_options& o, const anomaly::nab::corpus& corpus,
                   const std::vector<std::string>& detectors) {
  if (o.folds != "category") throw error(usage, "--folds: only 'category' is supported");
  if (o.search) return search_command(o, corpus, detectors);
  const auto candidates = grid_candidates(o);
  anomaly::nab::validation_options options;
  options.rule = selection_rule(o);
  options.what = output_of(o);
  const bool inner = options.rule != anomaly::nab::selection::best_pooled;
  for (const auto& name : detectors) {
    auto v = anomaly::nab::cross_validate(name, candidates, corpus, options);
    if (!v)
      throw error(v.error() == anomaly::error::invalid_parameter ||
                          v.error() == anomaly::error::unknown_detector
                      ? usage
                      : failed,
                  v.describe());
    for (const auto& p : *v) {
      if (o.json) {
        for (const auto& f : p.folds) {
          print_line(fmt::format(
              R"({{"detector":"{}","profile":"{}","held_out":"{}","parameters":"{}",)"
              R"("threshold":{},"train":{:.2f},"inner":{},"score":{:.2f},"in_sample":{:.2f},)"
              R"("raw":{:.4f},"windows":{},"detected":{},"false_positives":{}}})",
              name, p.profile, f.held_out, f.parameters, json_threshold(f.threshold), f.train,
              inner ? fmt::format("{:.2f}", f.inner) : std::string("null"), f.held_out_score,
              f.in_sample, f.held_out_raw, f.windows, f.detected, f.false_positives));
        }
        print_line(
            fmt::format(R"({{"detector":"{}","profile":"{}","parameters":"{}","threshold":{},)"
                        R"("in_sample":{:.2f},"held_out_pooled":{:.2f},"candidates":{},)"
                        R"("select":"{}"}})",
                        name, p.profile, p.parameters, json_threshold(p.threshold), p.in_sample,
                        p.held_out, candidates.size(), o.select));
        continue;
      }
      print_line(
          fmt::format("{} {}: in-sample {:.1f} (threshold {:.4f}{}{}), held-out pooled "
                      "{:.1f}, {} candidate(s), chosen by {}{}",
                      name, p.profile, p.in_sample, p.threshold, p.parameters.empty() ? "" : ", ",
                      p.parameters, p.held_out, candidates.size(), rule_name(options.rule),
                      inner ? fmt::format(" ({} {:.1f})", merit_name(options.rule), p.inner) : ""));
      print_line(
          "| held out | train | held-out score | in-sample | windows found | FP | raw | "
          "threshold | parameters |");
      print_line("|---|---:|---:|---:|---:|---:|---:|---:|---|");
      for (const auto& f : p.folds) {
        const bool scorable = f.windows > 0;
        const std::string train = inner ? fmt::format("{:.1f} (inner {:.1f})", f.train, f.inner)
                                        : fmt::format("{:.1f}", f.train);
        print_line(fmt::format(
            "| {} | {} | {} | {} | {}/{} | {} | {:+.3f} | {:.4f} | {} |", f.held_out, train,
            scorable ? fmt::format("{:.1f}", f.held_out_score) : std::string("-"),
            scorable ? fmt::format("{:.1f}", f.in_sample) : std::string("-"), f.detected, f.windows,
            f.false_positives, f.held_out_raw, f.threshold,
            f.parameters.empty() ? "defaults" : f.parameters));
      }
    }
  }
}

void nab_command(const nab_options& o) {
  const auto& names = o.detectors;
  const auto& sets = o.sets;
  const auto& given = o.data;
  const bool json = o.json, per_file = o.per_file;
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
  if (!o.profile.empty()) {
    std::erase_if(corpus->profiles, [&](const auto& p) { return p.name != o.profile; });
    if (corpus->profiles.empty()) throw error(usage, "--profile: no such profile: " + o.profile);
  }
  if (!o.folds.empty()) return folds_command(o, *corpus, detectors);
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
    detector_options d;
    d.name = name;
    d.sets = sets;
    const auto model = build(d);
    const auto start = std::chrono::steady_clock::now();
    const auto files = anomaly::nab::run(*model, *corpus, output_of(o));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!o.export_dir.empty()) {
      if (auto r = anomaly::nab::export_results(o.export_dir, name, *corpus, files); !r) {
        throw error(failed, r.describe());
      }
    }
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

  static nab_options nab_opts;
  auto* nab = cmd->add_subcommand("nab", "Run detectors over a NAB corpus and print the scores");
  nab->add_option("--detector,-d", nab_opts.detectors, "Detector(s), or 'all' (default)");
  nab->add_option("--set", nab_opts.sets, "Detector parameter key=value (repeatable)");
  nab->add_option("--data", nab_opts.data,
                  "NAB corpus directory (default: $IOTBLOCKS_NAB_DATA, else data/nab, else the "
                  "repository this CLI was built from)");
  nab->add_flag("--json", nab_opts.json, "One JSON line per detector and profile");
  nab->add_flag("--files", nab_opts.per_file,
                "Per-file breakdown (first profile, its best threshold)");
  nab->add_option("--export", nab_opts.export_dir,
                  "Also write the scores as NAB results: DIR/<detector>/<category>/"
                  "<detector>_<file>.csv (timestamp,value,anomaly_score,label)");
  nab->add_option("--folds", nab_opts.folds,
                  "'category': leave-one-category-out validation (parameters from --grid and "
                  "the threshold chosen on the other categories)");
  nab->add_option("--grid", nab_opts.grid,
                  "With --folds: candidate values of one parameter, key=v1,v2,... (repeatable; "
                  "all combinations)");
  nab->add_option(
      "--select", nab_opts.select,
      "With --folds: how a parameter set is chosen from the training categories: "
      "'pooled' (best score on them, default), 'inner' (nested: best pooled score "
      "of their own leave-one-category-out folds) or 'worst' (nested: best lowest score of "
      "one category in those folds)");
  nab->add_flag("--search", nab_opts.search,
                "With --folds: search the --grid axes one at a time from each axis' first value "
                "(coordinate search, by --select) instead of trying every combination; the "
                "search runs inside every fold");
  nab->add_option("--margin", nab_opts.margin,
                  "With --search: points a value must gain over the current one to replace it "
                  "(default 0)")
      ->check(CLI::Range(0.0, 100.0));
  nab->add_flag("--flags", nab_opts.flags,
                "Score each row 1 where the detector flagged it, else 0: detections at the "
                "detector's own threshold parameter (e.g. the ensemble's alarm), none learnt");
  nab->add_option("--profile", nab_opts.profile,
                  "Only this cost profile (standard, reward_low_FP_rate, reward_low_FN_rate)");
  nab->callback([] { nab_command(nab_opts); });

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

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
