// Request topics and payloads of the jobs device API.
#include <iotblocks/jobs/request.hpp>

#include <gtest/gtest.h>

namespace {

using namespace iotblocks::jobs;

TEST(JobsTopic, Operations) {
  auto t = parse_topic("$aws/things/lamp/jobs/get");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->thing, "lamp");
  EXPECT_EQ(t->op, operation::get_pending);
  t = parse_topic("$aws/things/lamp/jobs/start-next");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->op, operation::start_next);
  t = parse_topic("$aws/things/lamp/jobs/fw-1/get");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->op, operation::describe);
  EXPECT_EQ(t->job_id, "fw-1");
  t = parse_topic("$aws/things/lamp/jobs/$next/get");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->job_id, "$next");
  t = parse_topic("$aws/things/lamp/jobs/fw-1/update");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->op, operation::update);
}

TEST(JobsTopic, PassThroughAndInvalid) {
  for (auto topic :
       {"sensors/x", "$aws/things/lamp/shadow/update", "$aws/things/lamp",
        "$aws/things/lamp/jobs/notify", "$aws/things/lamp/jobs/notify-next",
        "$aws/things/lamp/jobs/get/accepted", "$aws/things/lamp/jobs/j/update/rejected"}) {
    EXPECT_EQ(parse_topic(topic).error(), error::not_a_jobs_topic) << topic;
  }
  for (auto topic : {"$aws/things/lamp/jobs/list", "$aws/things/lamp/jobs/j/delete",
                     "$aws/things/lamp/jobs/j/get/more", "$aws/things/lamp/jobs/$next/update",
                     "$aws/things/lamp/jobs/bad:id/get", "$aws/things/bad thing/jobs/get",
                     "$aws/things/lamp/jobs", "$aws/things/lamp/jobs/"}) {
    EXPECT_EQ(parse_topic(topic).error(), error::invalid_topic) << topic;
  }
}

TEST(JobsRequest, Update) {
  auto r =
      parse_request(operation::update,
                    R"({"status":"IN_PROGRESS","statusDetails":{"step":"1"},"expectedVersion":3,
                             "executionNumber":1,"includeJobExecutionState":true,
                             "includeJobDocument":true,"stepTimeoutInMinutes":5,"clientToken":"c","x":1})");
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->client_token, "c");
  EXPECT_EQ(r->update.status, execution_status::in_progress);
  EXPECT_EQ(r->update.details, (status_details{{"step", "1"}}));
  EXPECT_EQ(r->update.expected_version, 3);
  EXPECT_EQ(r->update.execution_number, 1);
  EXPECT_EQ(r->update.step_timeout_minutes, 5);
  EXPECT_TRUE(r->include_execution_state);
  EXPECT_TRUE(r->include_job_document);
  r = parse_request(operation::update, R"({"status":"SUCCEEDED"})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->include_job_document);
  EXPECT_FALSE(r->include_execution_state);
}

TEST(JobsRequest, Defaults) {
  auto r = parse_request(operation::describe, "");
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->include_job_document);
  r = parse_request(operation::describe, R"({"includeJobDocument":false,"executionNumber":2})");
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->include_job_document);
  EXPECT_EQ(r->update.execution_number, 2);
  EXPECT_TRUE(parse_request(operation::get_pending, ""));
  EXPECT_TRUE(parse_request(operation::start_next, "  "));
}

TEST(JobsRequest, Rejections) {
  struct row {
    operation op;
    const char* payload;
    error code;
  };
  const row rows[] = {
      {operation::get_pending, "{", error::invalid_json},
      {operation::get_pending, "{\"clientToken\":\"\xff\"}", error::invalid_json},
      {operation::get_pending, "[]", error::invalid_request},
      {operation::get_pending, R"({"clientToken":5})", error::invalid_request},
      {operation::get_pending,
       R"({"clientToken":"01234567890123456789012345678901234567890123456789012345678901234"})",
       error::invalid_request},
      {operation::update, "", error::invalid_request},
      {operation::update, "{}", error::invalid_request},
      {operation::update, R"({"status":1})", error::invalid_request},
      {operation::update, R"({"status":"DONE"})", error::invalid_request},
      {operation::update, R"({"status":"FAILED","expectedVersion":"1"})", error::invalid_request},
      {operation::update, R"({"status":"FAILED","expectedVersion":1.5})", error::invalid_request},
      {operation::update, R"({"status":"FAILED","statusDetails":[]})", error::invalid_request},
      {operation::update, R"({"status":"FAILED","statusDetails":{"a":1}})", error::invalid_request},
      {operation::update, R"({"status":"FAILED","statusDetails":{"a b":"c"}})",
       error::invalid_request},
      {operation::update, R"({"status":"FAILED","statusDetails":{"a":""}})",
       error::invalid_request},
      {operation::update, R"({"status":"FAILED","stepTimeoutInMinutes":0})",
       error::invalid_request},
      {operation::update, R"({"status":"FAILED","stepTimeoutInMinutes":10081})",
       error::invalid_request},
      {operation::update, R"({"status":"FAILED","includeJobDocument":"yes"})",
       error::invalid_request},
      {operation::update, R"({"status":"FAILED","includeJobExecutionState":1})",
       error::invalid_request},
      {operation::start_next, R"({"statusDetails":"x"})", error::invalid_request},
      {operation::describe, R"({"executionNumber":"1"})", error::invalid_request},
      {operation::describe, R"({"includeJobDocument":0})", error::invalid_request},
  };
  for (const auto& r : rows) {
    auto got = parse_request(r.op, r.payload);
    EXPECT_EQ(got.error(), r.code) << r.payload;
    EXPECT_FALSE(got.ok() || got.fail().message.empty()) << r.payload;
  }
  std::string deep(40, '[');
  EXPECT_EQ(parse_request(operation::get_pending, deep).error(), error::invalid_json);
  EXPECT_EQ(
      parse_request(operation::get_pending, R"({"a":1})", limits{}.max_request_size(4)).error(),
      error::invalid_json);
}

TEST(JobsRequest, ClientTokenOf) {
  EXPECT_EQ(client_token_of(R"({"clientToken":"abc","status":7})"), "abc");
  EXPECT_EQ(client_token_of("{"), "");
  EXPECT_EQ(client_token_of(R"({"clientToken":7})"), "");
}

}  // namespace
