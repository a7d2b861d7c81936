// Writing a detector's scores in NAB's results layout (see nab.hpp).
#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/nab.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>

namespace iotblocks::anomaly::nab {
namespace {

namespace fs = std::filesystem;

failure results_error(std::string message) {
  return failure{error::invalid_corpus, std::move(message), {}};
}

// "YYYY-MM-DD HH:MM:SS", plus ".mmm" when the time is not whole seconds.
void put_timestamp(std::string& out, std::int64_t ms) {
  namespace chr = std::chrono;
  const chr::sys_time<chr::milliseconds> t{chr::milliseconds{ms}};
  const auto day = chr::floor<chr::days>(t);
  const chr::year_month_day ymd{day};
  const chr::hh_mm_ss hms{t - day};
  char buf[48];
  int n =
      std::snprintf(buf, sizeof buf, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(ymd.year()),
                    static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                    static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                    static_cast<int>(hms.seconds().count()));
  if (const auto frac = hms.subseconds().count(); frac != 0 && n > 0) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%03d",
                       static_cast<int>(frac));
  }
  out.append(buf, static_cast<std::size_t>(n > 0 ? n : 0));
}

}  // namespace

std::string category_of(const std::string& file_name) {
  return file_name.substr(0, file_name.find('/'));
}

result<void> export_results(const std::string& dir, std::string_view detector_name, const corpus& c,
                            std::span<const scored_file> files) {
  if (files.size() != c.files.size()) {
    return results_error("export: " + std::to_string(files.size()) + " scored files for " +
                         std::to_string(c.files.size()) + " data files");
  }
  const std::string det{detector_name};
  if (det.empty() || det.find_first_of("/\\") != std::string::npos || det == "." || det == "..") {
    return results_error("export: '" + det + "' cannot name a directory");
  }
  for (std::size_t i = 0; i < files.size(); ++i) {
    const auto& data = c.files[i];
    const auto& scored = files[i];
    if (scored.name != data.name || scored.scores.size() != data.points.size()) {
      return results_error("export: scores of " + scored.name + " do not match " + data.name);
    }
    const fs::path rel{data.name};
    const fs::path out_dir = fs::path(dir) / det / rel.parent_path();
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) return results_error("export: " + out_dir.string() + ": " + ec.message());
    const fs::path out_path = out_dir / (det + "_" + rel.filename().string());
    std::string text = "timestamp,value,anomaly_score,label\n";
    text.reserve(data.points.size() * 48);
    std::size_t w = 0;
    for (std::size_t row = 0; row < data.points.size(); ++row) {
      const auto& p = data.points[row];
      while (w < data.windows.size() && data.windows[w].end_ms < p.time_ms) ++w;
      const bool in_window = w < data.windows.size() && data.windows[w].begin_ms <= p.time_ms;
      put_timestamp(text, p.time_ms);
      text += ',';
      text += detail::format_double(p.value);
      text += ',';
      text += detail::format_double(scored.scores[row]);
      text += in_window ? ",1\n" : ",0\n";
    }
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out) return results_error("export: cannot write " + out_path.string());
  }
  return {};
}

}  // namespace iotblocks::anomaly::nab
