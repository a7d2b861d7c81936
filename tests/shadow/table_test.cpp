// Table tests: every file in tests/data/shadow/*.json holds cases; each case seeds a
// shadow ("previous", a document in storage form), then runs steps: one PUBLISH on a
// shadow request topic at a fixed time, with the exact messages expected back and,
// optionally, the document (storage form) left behind.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/clock.hpp>
#include <iotblocks/shadow.hpp>

#include "core/json.hpp"
#include "shadow/json_compare.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace iotblocks::shadow {
namespace {

std::vector<std::string> table_files() {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator("tests/data/shadow")) {
    if (e.path().extension() == ".json") files.push_back(e.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string text_of(const rapidjson::Value& v) { return json::write(v); }

limits limits_of(const rapidjson::Value& c) {
  limits l;
  const auto* v = json::find(c, "limits");
  if (v == nullptr) return l;
  if (auto n = json::get_int64(*v, "max_document_size")) l.max_document_size(std::size_t(*n));
  if (auto n = json::get_int64(*v, "max_request_size")) l.max_request_size(std::size_t(*n));
  if (auto n = json::get_int64(*v, "max_depth")) l.max_depth(unsigned(*n));
  if (auto n = json::get_int64(*v, "max_client_token")) l.max_client_token(std::size_t(*n));
  if (auto n = json::get_int64(*v, "max_thing_name")) l.max_thing_name(std::size_t(*n));
  if (auto n = json::get_int64(*v, "max_shadow_name")) l.max_shadow_name(std::size_t(*n));
  return l;
}

// The payload of a step: "request" (JSON), "request_text" (raw text) or "request_hex".
std::string payload_of(const rapidjson::Value& step) {
  if (const auto* r = json::find(step, "request")) return text_of(*r);
  if (auto t = json::get_string(step, "request_text")) return std::string(*t);
  if (auto h = json::get_string(step, "request_hex")) {
    auto bytes = from_hex(*h);
    EXPECT_TRUE(bytes) << "bad request_hex";
    return bytes ? std::string(as_string_view(*bytes)) : std::string{};
  }
  return {};
}

class Table : public ::testing::TestWithParam<std::string> {};

TEST_P(Table, Cases) {
  const std::string text = read_file("tests/data/shadow/" + GetParam());
  auto file = json::parse(text);
  ASSERT_TRUE(file) << file.describe();
  const auto* cases = json::find(*file, "cases");
  ASSERT_TRUE(cases != nullptr && cases->IsArray());
  for (const auto& c : cases->GetArray()) {
    const std::string name{json::get_string(c, "name").value_or("?")};
    SCOPED_TRACE("case: " + name);
    const std::string thing{json::get_string(c, "thing").value_or("lamp")};
    const std::string shadow_name{json::get_string(c, "shadow").value_or("")};
    const limits l = limits_of(c);
    manual_clock clock{from_unix_ms(0)};
    memory_store store;
    service svc{store, clock, l};
    router r{svc};
    if (const auto* only = json::find(c, "only"); only != nullptr && only->IsArray()) {
      // Build only the responses on topics ending with one of these suffixes.
      std::vector<std::string> suffixes;
      for (const auto& s : only->GetArray()) suffixes.push_back("/" + std::string(json::view(s)));
      r.publish_filter([suffixes](std::string_view topic) {
        return std::any_of(suffixes.begin(), suffixes.end(),
                           [&](const std::string& s) { return topic.ends_with(s); });
      });
    }
    const shadow_key key{thing, shadow_name};
    if (const auto* prev = json::find(c, "previous"); prev != nullptr) {
      auto doc = document::parse(text_of(*prev));
      ASSERT_TRUE(doc) << doc.describe();
      (void)store.modify(key, [&](document& d) {
        d = std::move(*doc);
        return true;
      });
    }
    const auto* steps = json::find(c, "steps");
    ASSERT_TRUE(steps != nullptr && steps->IsArray());
    int index = 0;
    for (const auto& step : steps->GetArray()) {
      SCOPED_TRACE("step " + std::to_string(index++));
      clock.set(from_unix_ms(json::get_int64(step, "now").value_or(1700000000) * 1000));
      std::string topic;
      if (auto t = json::get_string(step, "topic")) {
        topic = std::string(*t);
      } else {
        topic = topic_prefix(thing, shadow_name) + "/" +
                std::string(json::get_string(step, "op").value_or("update"));
      }
      auto out = r.route(topic, payload_of(step));
      ASSERT_TRUE(out.has_value()) << "not routed: " << topic;
      const auto* expected = json::find(step, "messages");
      ASSERT_TRUE(expected != nullptr && expected->IsArray());
      std::vector<std::string> want;
      std::vector<std::string> got;
      for (const auto& m : expected->GetArray()) {
        want.push_back(std::string(json::get_string(m, "topic").value_or("")) + " " +
                       testing_json::canonical(*json::find(m, "payload")));
      }
      for (const auto& m : *out) {
        auto payload = json::parse(m.payload);
        EXPECT_TRUE(payload) << "payload is not JSON: " << m.payload;
        got.push_back(m.topic + " " + (payload ? testing_json::canonical(*payload) : m.payload));
      }
      EXPECT_EQ(got, want);
      if (const auto* doc = json::find(step, "document"); doc != nullptr) {
        std::string stored;
        (void)store.read(key, [&](const document& d) { stored = d.to_storage(); });
        auto parsed = json::parse(stored);
        ASSERT_TRUE(parsed) << stored;
        EXPECT_EQ(testing_json::canonical(*parsed), testing_json::canonical(*doc));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Shadow, Table, ::testing::ValuesIn(table_files()),
                         [](const auto& param_info) {
                           std::string n = param_info.param.substr(0, param_info.param.size() - 5);
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace iotblocks::shadow
