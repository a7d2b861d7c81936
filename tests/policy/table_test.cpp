// Table tests: every file in tests/data/policy/cases/ holds policies and the
// decisions expected for a list of requests (see the files for the scenarios).
#include <iotblocks/policy.hpp>

#include "core/json.hpp"

#include <gtest/gtest.h>

#include "read_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace iotblocks::policy {
namespace {

const std::filesystem::path cases_dir = "tests/data/policy/cases";

std::vector<std::string> case_files() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(cases_dir)) {
    if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

using iotblocks::testing::read_whole_file;

void fill(context& ctx, const rapidjson::Value& vars) {
  for (auto m = vars.MemberBegin(); m != vars.MemberEnd(); ++m) {
    const std::string_view key = json::view(m->name);
    if (m->value.IsArray()) {
      for (const auto& v : m->value.GetArray()) ASSERT_TRUE(ctx.set(key, json::view(v))) << key;
    } else {
      ASSERT_TRUE(ctx.set(key, json::view(m->value))) << key;
    }
  }
}

class PolicyTable : public ::testing::TestWithParam<std::string> {};

TEST_P(PolicyTable, Decisions) {
  const std::string text = read_whole_file(cases_dir / (GetParam() + ".json"));
  auto file = json::parse(text);
  ASSERT_TRUE(file) << file.describe();
  std::map<std::string, document> docs;
  std::map<std::string, document> reparsed;  // from the canonical JSON: must decide the same
  policy_set defaults;
  policy_set defaults_reparsed;
  for (const auto& p : (*file)["policies"].GetArray()) {
    const std::string name(json::view(p["name"]));
    auto doc = parse_document(json::write(p["document"], true));
    ASSERT_TRUE(doc) << name << ": " << doc.describe();
    EXPECT_TRUE(doc->warnings().empty()) << name << ": " << doc->warnings()[0].message;
    auto again = parse_document(doc->to_json());
    ASSERT_TRUE(again) << again.describe();
    EXPECT_EQ(again->to_json(), doc->to_json());
    docs[name] = *doc;
    reparsed[name] = *again;
    if (!p.HasMember("default") || p["default"].GetBool()) {
      defaults.add(name, 1, *doc);
      defaults_reparsed.add(name, 1, *again);
    }
  }
  std::size_t count = 0;
  for (const auto& c : (*file)["cases"].GetArray()) {
    SCOPED_TRACE(std::string(json::view(c["name"])));
    ++count;
    policy_set chosen = defaults;
    policy_set chosen_reparsed = defaults_reparsed;
    if (c.HasMember("policies")) {
      chosen = {};
      chosen_reparsed = {};
      for (const auto& n : c["policies"].GetArray()) {
        const std::string name(json::view(n));
        ASSERT_TRUE(docs.count(name)) << name;
        chosen.add(name, 1, docs[name]);
        chosen_reparsed.add(name, 1, reparsed[name]);
      }
    }
    context ctx;
    ctx.account = "123456789012";
    ctx.region = "us-east-1";
    if (c.HasMember("vars")) fill(ctx, c["vars"]);
    const request req = request::named(json::view(c["action"]), json::view(c["resource"]));
    const decision d = evaluate(chosen, req, ctx);
    EXPECT_EQ(to_string(d.result), json::view(c["expect"])) << d.to_json();
    if (c.HasMember("statement")) {
      EXPECT_EQ(d.statement, c["statement"].GetUint64()) << d.to_json();
    }
    if (c.HasMember("policy")) {
      ASSERT_NE(d.policy, nullptr);
      EXPECT_EQ(d.policy->name, json::view(c["policy"]));
    }
    if (d.result == outcome::implicit_deny) {
      EXPECT_EQ(d.policy, nullptr);
      EXPECT_EQ(d.statement, decision::no_statement);
    }
    const decision r = evaluate(chosen_reparsed, req, ctx);
    EXPECT_EQ(r.result, d.result);
    EXPECT_EQ(r.statement, d.statement);
  }
  EXPECT_GE(count, 5u);
}

INSTANTIATE_TEST_SUITE_P(Files, PolicyTable, ::testing::ValuesIn(case_files()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

TEST(PolicyTableFiles, AllScenariosPresent) {
  const auto files = case_files();
  for (const char* f : {"greenhouse", "thing_shadow", "deny_overrides", "not_resource",
                        "receive_vs_subscribe", "client_id_plus", "certificate_subject"}) {
    EXPECT_TRUE(std::find(files.begin(), files.end(), f) != files.end()) << f;
  }
}

}  // namespace
}  // namespace iotblocks::policy
