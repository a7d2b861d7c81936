// jobExecutionsRolloutConfig, abortConfig and jobExecutionsRetryConfig as JSON: AWS's shapes
// read and written back, and every refusal with the member it names.
#include <iotblocks/jobs/config.hpp>

#include <gtest/gtest.h>

namespace {

using namespace iotblocks::jobs;

TEST(JobsConfig, RolloutConstantAndDefault) {
  auto r = parse_rollout_config(R"({"maximumPerMinute":10})");
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->maximum_per_minute, 10);
  EXPECT_FALSE(r->exponential());
  r = parse_rollout_config("{}");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->maximum_per_minute, 1000);  // AWS's default
}

TEST(JobsConfig, RolloutExponentialRoundTrips) {
  const char* text =
      R"({"maximumPerMinute":500,"exponentialRate":{"baseRatePerMinute":50,)"
      R"("incrementFactor":2.5,"rateIncreaseCriteria":{"numberOfSucceededThings":100}}})";
  auto r = parse_rollout_config(text);
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ(r->base_rate_per_minute, 50);
  EXPECT_DOUBLE_EQ(r->increment_factor, 2.5);
  EXPECT_EQ(r->succeeded_things, 100);
  EXPECT_EQ(r->notified_things, 0);
  EXPECT_EQ(to_json(*r), text);
  EXPECT_EQ(parse_rollout_config(to_json(*r)).value(), *r);
}

TEST(JobsConfig, RolloutRefusals) {
  const std::pair<const char*, const char*> cases[] = {
      {"[]", "expected an object"},
      {R"({"maximumPerMinute":"10"})", "maximumPerMinute: expected an integer"},
      {R"({"maximumPerMinute":0})", "maximumPerMinute must be 1-1000"},
      {R"({"maximumPerMinute":1001})", "maximumPerMinute must be 1-1000"},
      {R"({"maximumPerMinute":1,"extra":1})", "unknown member extra"},
      {R"({"exponentialRate":{"baseRatePerMinute":1,"incrementFactor":2,)"
       R"("rateIncreaseCriteria":{"numberOfNotifiedThings":1}}})",
       "maximumPerMinute is required with exponentialRate"},
      {R"({"maximumPerMinute":9,"exponentialRate":{"incrementFactor":2,)"
       R"("rateIncreaseCriteria":{"numberOfNotifiedThings":1}}})",
       "baseRatePerMinute: required"},
      {R"({"maximumPerMinute":9,"exponentialRate":{"baseRatePerMinute":1,)"
       R"("incrementFactor":1.05,"rateIncreaseCriteria":{"numberOfNotifiedThings":1}}})",
       "incrementFactor must be 1.1-5"},
      {R"({"maximumPerMinute":9,"exponentialRate":{"baseRatePerMinute":1,)"
       R"("incrementFactor":2,"rateIncreaseCriteria":{}}})",
       "set one of numberOfNotifiedThings and numberOfSucceededThings"},
  };
  for (const auto& [text, message] : cases) {
    auto r = parse_rollout_config(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error(), error::invalid_request) << text;
    EXPECT_NE(r.fail().message.view().find(message), std::string::npos) << r.fail().message;
  }
  EXPECT_EQ(parse_rollout_config("{").error(), error::invalid_json);
  EXPECT_EQ(parse_rollout_config(std::string(40, '[') + std::string(40, ']')).error(),
            error::invalid_json);  // deeper than max_depth
}

TEST(JobsConfig, AbortRoundTripsAndRefusals) {
  const char* text =
      R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":)"
      R"(33.33,"minNumberOfExecutedThings":3},{"failureType":"ALL","action":"CANCEL",)"
      R"("thresholdPercentage":90.0,"minNumberOfExecutedThings":10}]})";
  auto a = parse_abort_config(text);
  ASSERT_TRUE(a) << a.describe();
  ASSERT_EQ(a->size(), 2u);
  EXPECT_EQ((*a)[0], (abort_criterion{failure_type::failed, 33.33, 3}));
  EXPECT_EQ((*a)[1].type, failure_type::all);
  EXPECT_EQ(parse_abort_config(to_json(*a)).value(), *a);
  for (
      const char* bad : {
          R"({})",
          R"({"criteriaList":{}})",
          R"({"criteriaList":[]})",
          R"({"criteriaList":[1]})",
          R"({"criteriaList":[{"failureType":"FAILED","action":"PAUSE","thresholdPercentage":1,)"
          R"("minNumberOfExecutedThings":1}]})",
          R"({"criteriaList":[{"failureType":"LOST","action":"CANCEL","thresholdPercentage":1,)"
          R"("minNumberOfExecutedThings":1}]})",
          R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL",)"
          R"("minNumberOfExecutedThings":1}]})",
          R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":1}]})",
          R"({"criteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":101,)"
          R"("minNumberOfExecutedThings":1}]})",
      }) {
    auto r = parse_abort_config(bad);
    EXPECT_EQ(r.error(), error::invalid_request) << bad;
    EXPECT_NE(r.fail().message.view().find("abortConfig"), std::string::npos) << r.fail().message;
  }
}

TEST(JobsConfig, RetryRoundTripsAndRefusals) {
  auto r = parse_retry_config(R"({"criteriaList":[{"failureType":"FAILED","numberOfRetries":2},)"
                              R"({"failureType":"TIMED_OUT","numberOfRetries":0}]})");
  ASSERT_TRUE(r) << r.describe();
  EXPECT_EQ((*r)[0], (retry_criterion{failure_type::failed, 2}));
  EXPECT_EQ(parse_retry_config(to_json(*r)).value(), *r);
  for (const char* bad : {
           R"({"criteriaList":[{"failureType":"REJECTED","numberOfRetries":1}]})",
           R"({"criteriaList":[{"failureType":"FAILED","numberOfRetries":11}]})",
           R"({"criteriaList":[{"failureType":"FAILED"}]})",
           R"({"criteriaList":[{"failureType":"FAILED","numberOfRetries":1.5}]})",
       }) {
    EXPECT_EQ(parse_retry_config(bad).error(), error::invalid_request) << bad;
  }
}

TEST(JobsConfig, TemplateRoundTrips) {
  job_template t;
  t.id = "tpl";
  t.description = "a \"quoted\" description";
  t.document = R"({"op":"x"})";
  t.in_progress_timeout_minutes = 9;
  t.rollout = {.maximum_per_minute = 7};
  t.abort_criteria = {{failure_type::rejected, 1.5, 2}};
  t.retry_criteria = {{failure_type::all, 3}};
  t.created_at = 1'700'000'000;
  auto back = parse_job_template(to_json(t));
  ASSERT_TRUE(back) << back.describe();
  EXPECT_EQ(*back, t);
  EXPECT_EQ(parse_job_template(R"({"jobTemplateId":"x"})").error(), error::invalid_request);
  EXPECT_EQ(parse_job_template("nope").error(), error::invalid_json);
}

}  // namespace
