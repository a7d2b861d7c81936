// `iotblocks topic match --filters FILE`: for each topic name on standard input,
// the filters (one per line of FILE) that match it, as JSON lines.
// `iotblocks topic validate [--filter]`: checks each line as a topic name (or filter).
#include "command.hpp"

#include <iotblocks/topic/index.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t a = 0;
  while (a < text.size()) {
    std::size_t b = text.find('\n', a);
    if (b == std::string::npos) b = text.size();
    std::string line = text.substr(a, b - a);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(std::move(line));
    a = b + 1;
  }
  return lines;
}

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
}

void error_fields(rapidjson::Writer<rapidjson::StringBuffer>& w, std::error_code ec) {
  w.Key("error");
  put(w, ec.message());
  w.Key("code");
  w.Int(ec.value());
}

void match(const std::string& filters_path, bool aggregate_counts) {
  const std::vector<std::string> filters = split_lines(read_input(filters_path));
  topic::subscription_index index;
  for (std::size_t i = 0; i < filters.size(); ++i) {
    if (filters[i].empty()) continue;
    if (auto r = index.subscribe(filters[i], i); !r) {
      throw error(bad_input, filters_path + ":" + std::to_string(i + 1) + ": " + r.describe() +
                                 ": '" + filters[i] + "'");
    }
  }
  std::size_t invalid = 0;
  std::vector<topic::match_entry> found;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("topic");
    put(w, line);
    if (auto ec = topic::validate_name(line)) {
      error_fields(w, ec);
      ++invalid;
    } else {
      found.clear();
      index.match(line, found);
      std::sort(found.begin(), found.end(),
                [](const auto& a, const auto& b) { return a.subscriber < b.subscriber; });
      w.Key("matches");
      w.StartArray();
      for (const auto& e : found) put(w, filters[e.subscriber]);
      w.EndArray();
      if (aggregate_counts) {
        w.Key("count");
        w.Uint64(found.size());
      }
    }
    w.EndObject();
    print_line({buf.GetString(), buf.GetSize()});
  }
  if (invalid > 0) throw error(bad_input, std::to_string(invalid) + " invalid topic name(s)");
}

void validate(bool as_filter) {
  std::size_t invalid = 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto ec = as_filter ? topic::validate_filter(line) : topic::validate_name(line);
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key(as_filter ? "filter" : "topic");
    put(w, line);
    w.Key("valid");
    w.Bool(!ec);
    if (ec) {
      error_fields(w, ec);
      ++invalid;
    } else if (as_filter && topic::is_shared(line)) {
      topic::shared_filter sf;
      (void)topic::parse_shared(line, sf);
      w.Key("group");
      put(w, sf.group);
      w.Key("shared_filter");
      put(w, sf.filter);
    }
    w.EndObject();
    print_line({buf.GetString(), buf.GetSize()});
  }
  if (invalid > 0) throw error(bad_input, std::to_string(invalid) + " invalid line(s)");
}

void setup(CLI::App& root) {
  auto* cmd = root.add_subcommand("topic", "Topic names, filters and the subscription index");
  cmd->require_subcommand(1);

  auto* m = cmd->add_subcommand(
      "match", "For each topic name on stdin, print the filters of FILE that match (JSON lines)");
  static std::string filters;
  static bool counts = false;
  m->add_option("--filters", filters, "File with one topic filter per line ($share/... allowed)")
      ->required();
  m->add_flag("--count", counts, "Also print the number of matches");
  m->callback([] { match(filters, counts); });

  auto* v = cmd->add_subcommand(
      "validate", "Check each line of stdin as a topic name (or --filter) and print JSON lines");
  static bool as_filter = false;
  v->add_flag("--filter", as_filter, "Validate topic filters instead of names");
  v->callback([] { validate(as_filter); });
}

const registrar reg{10, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
