// AWS managed job templates and ${aws:iot:parameter:…} substitution: the catalogue, the
// placeholder scanner's refusals (with positions), parameter validation, and jobs made from
// a managed template through the service on every store (kept across a restart).
#include <iotblocks/jobs/managed_templates.hpp>
#include <iotblocks/jobs/service.hpp>

#include <gtest/gtest.h>

#include "jobs/store_kinds.hpp"

#include <rapidjson/document.h>

#include <memory>
#include <string>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;

rapidjson::Document parsed(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.data(), text.size());
  EXPECT_FALSE(d.HasParseError()) << text;
  return d;
}

TEST(ManagedTemplates, TheCatalogueIsAwssAndEveryDocumentSubstitutes) {
  std::vector<std::string> names;
  for (const auto& t : managed_templates()) {
    names.emplace_back(t.name);
    parameter_map examples;
    for (const auto& p : t.parameters) examples.emplace(p.key, p.example);
    auto doc = document_from_template(t, examples);
    ASSERT_TRUE(doc) << t.name << ": " << doc.describe();
    EXPECT_EQ(doc->find("${aws:iot:parameter:"), std::string::npos) << *doc;
    EXPECT_TRUE(parsed(*doc).IsObject());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"AWS-Download-File", "AWS-Install-Application",
                                             "AWS-Reboot", "AWS-Remove-Application",
                                             "AWS-Restart-Application", "AWS-Run-Command",
                                             "AWS-Start-Application", "AWS-Stop-Application"}));
  ASSERT_NE(find_managed_template("AWS-Reboot"), nullptr);
  EXPECT_EQ(find_managed_template("AWS-Reboot")->version, "1.0");
  EXPECT_NE(find_managed_template("AWS-Reboot", "1.0"), nullptr);
  EXPECT_EQ(find_managed_template("AWS-Reboot", "2.0"), nullptr);
  EXPECT_EQ(find_managed_template("AWS-Fly"), nullptr);
}

TEST(ManagedTemplates, DownloadFileSubstitutesEscapedValuesAndEmptyOptionals) {
  const auto* t = find_managed_template("AWS-Download-File");
  ASSERT_NE(t, nullptr);
  auto doc = document_from_template(
      *t, {{"downloadUrl", R"(https://example.com/a "b"\c.bin)"}, {"filePath", "/tmp/é"}});
  ASSERT_TRUE(doc) << doc.describe();
  auto d = parsed(*doc);
  const auto& action = d["steps"][0]["action"];
  EXPECT_STREQ(action["input"]["args"][0].GetString(), R"(https://example.com/a "b"\c.bin)");
  EXPECT_STREQ(action["input"]["args"][1].GetString(), "/tmp/é");
  EXPECT_STREQ(action["input"]["path"].GetString(), "");
  EXPECT_STREQ(action["runAsUser"].GetString(), "");
  EXPECT_STREQ(action["input"]["handler"].GetString(), "download-file.sh");
}

TEST(ManagedTemplates, ParametersAreCheckedAgainstTheTemplate) {
  const auto& dl = *find_managed_template("AWS-Download-File");
  const auto& reboot = *find_managed_template("AWS-Reboot");
  auto refused = [](const managed_template& t, parameter_map values, std::string_view says) {
    auto r = document_from_template(t, values);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error(), error::invalid_request);
    EXPECT_NE(r.fail().message.view().find(says), std::string::npos) << r.fail().message;
  };
  refused(dl, {{"downloadUrl", "u"}}, "filePath is required");
  refused(dl, {{"downloadUrl", "u"}, {"filePath", "f"}, {"mode", "x"}},
          "mode is not a parameter of the managed template AWS-Download-File");
  refused(reboot, {{"pathToHandler", std::string(513, 'p')}}, "must be 1-512 characters");
  refused(dl, {{"downloadUrl", "a\nb"}, {"filePath", "f"}}, "without control characters");
  refused(dl, {{"downloadUrl", "a\xc2\x85"}, {"filePath", "f"}}, "without control characters");
  refused(dl, {{"downloadUrl", ""}, {"filePath", "f"}}, "must be 1-512 characters");
  EXPECT_TRUE(document_from_template(reboot, {{"runAsUser", std::string(256, 'u')}}));
  EXPECT_TRUE(document_from_template(reboot, {}));
}

TEST(ManagedTemplates, RegexMismatchIsRefused) {
  // runAsUser: (.){0,256}; 300 characters fit the 512 limit but not the regex.
  const auto& reboot = *find_managed_template("AWS-Reboot");
  auto r = document_from_template(reboot, {{"runAsUser", std::string(300, 'u')}});
  ASSERT_FALSE(r);
  EXPECT_NE(r.fail().message.view().find("does not match (.){0,256}"), std::string::npos)
      << r.fail().message;
}

TEST(SubstituteParameters, RefusesMalformedPlaceholdersWithTheirPosition) {
  const parameter_map v{{"a", "1"}};
  auto r = substitute_parameters(R"({"x":"${aws:iot:parameter:a"})", v);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::invalid_request);
  EXPECT_EQ(r.fail().where.offset, 27u);
  r = substitute_parameters(R"({"x":"${aws:iot:parameter:a b}"})", v);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.fail().where.offset, 27u);
  r = substitute_parameters(R"({"x":"${aws:iot:parameter:}"})", v);
  ASSERT_FALSE(r);
  r = substitute_parameters(R"({"x":"${aws:iot:parameter:b}"})", v);
  ASSERT_FALSE(r);
  EXPECT_NE(r.fail().message.view().find("b has no value"), std::string::npos);
  EXPECT_FALSE(substitute_parameters("[1]", v));
  EXPECT_FALSE(substitute_parameters("{", v));
  EXPECT_FALSE(substitute_parameters(R"({"x":${aws:iot:parameter:a}})", v));  // not JSON
  r = substitute_parameters(R"({"x":"${aws:iot:parameter:)" + std::string(129, 'k') + "}\"}", v);
  ASSERT_FALSE(r);
  EXPECT_NE(r.fail().message.view().find("1-128"), std::string::npos);
  EXPECT_EQ(
      substitute_parameters(R"({"x":"${aws:iot:parameter:a}${aws:iot:parameter:a}-"})", v).value(),
      R"({"x":"11-"})");
  EXPECT_EQ(substitute_parameters(R"({"x":"no ${aws:iot:other} here"})", {}).value(),
            R"({"x":"no ${aws:iot:other} here"})");
}

struct ManagedJobs : ::testing::TestWithParam<test_stores::store_kind> {
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  test_stores::test_store holder{GetParam()};
  std::unique_ptr<service> svc = std::make_unique<service>(holder.get(), clock);

  void restart() {
    svc.reset();
    if (GetParam() == test_stores::store_kind::sqlite) holder.reopen();
    svc = std::make_unique<service>(holder.get(), clock);
  }
};

TEST_P(ManagedJobs, AJobFromAManagedTemplateKeepsItsParameters) {
  job_spec spec{"dl", "", {"lamp"}};
  spec.document_parameters = {{"downloadUrl", "https://example.com/fw"}, {"filePath", "/fw"}};
  auto made = service::from_managed_template("AWS-Download-File:1.0", spec);
  ASSERT_TRUE(made) << made.describe();
  EXPECT_EQ(made->template_id, "AWS-Download-File:1.0");
  EXPECT_EQ(made->description, "A managed job template for downloading a file.");
  ASSERT_TRUE(svc->create_job(*made));
  restart();
  auto j = svc->describe_job("dl").value();
  EXPECT_EQ(j.template_id, "AWS-Download-File:1.0");
  EXPECT_EQ(j.document_parameters, spec.document_parameters);
  auto doc = parsed(j.document);
  EXPECT_STREQ(doc["steps"][0]["action"]["input"]["args"][0].GetString(), "https://example.com/fw");
  // beforeSubstitution: the template's document, its placeholders in place.
  const auto before = document_before_substitution(j);
  EXPECT_EQ(before, find_managed_template("AWS-Download-File", "1.0")->document);
  EXPECT_STREQ(parsed(before)["steps"][0]["action"]["input"]["args"][0].GetString(),
               "${aws:iot:parameter:downloadUrl}");
  ASSERT_TRUE(svc->create_job(job_spec{"plain", R"({"op":"x"})", {"lamp"}}));
  EXPECT_EQ(document_before_substitution(svc->describe_job("plain").value()), R"({"op":"x"})");
  // Without a version: the newest.
  EXPECT_EQ(
      service::from_managed_template("AWS-Reboot", job_spec{"r", "", {"lamp"}}).value().template_id,
      "AWS-Reboot:1.0");
}

TEST_P(ManagedJobs, DocumentParametersOnlyWithAManagedTemplate) {
  job_spec plain{"p", R"({"op":"x"})", {"lamp"}};
  plain.document_parameters = {{"filePath", "f"}};
  auto r = svc->create_job(plain);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), error::invalid_request);
  EXPECT_EQ(r.fail().message,
            "documentParameters can only be used when creating jobs from AWS managed templates");
  job_template t{"custom", "a custom template", R"({"op":"x"})"};
  ASSERT_TRUE(svc->create_template(t));
  auto custom = svc->from_template("custom", plain);
  ASSERT_TRUE(custom);
  EXPECT_EQ(svc->create_job(*custom).error(), error::invalid_request);
  EXPECT_EQ(service::from_managed_template("AWS-Reboot:1.0", plain).error(),
            error::invalid_request);  // a document of its own
  EXPECT_EQ(service::from_managed_template("AWS-Fly:1.0", job_spec{"f", "", {"lamp"}}).error(),
            error::resource_not_found);
  EXPECT_FALSE(svc->describe_job("p"));
}

IOTBLOCKS_JOBS_ON_EVERY_STORE(ManagedJobs);

}  // namespace
