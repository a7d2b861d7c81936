// The execution state machine against AWS's documented one, and apply_update /
// apply_service on every (from, to) pair.
#include <iotblocks/jobs/model.hpp>

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace {

using namespace iotblocks::jobs;
using enum execution_status;

// AWS IoT Jobs: a device moves QUEUED or IN_PROGRESS to IN_PROGRESS, SUCCEEDED, FAILED or
// REJECTED; the service cancels (QUEUED, or IN_PROGRESS with force), removes (thing left the
// targets) and times out IN_PROGRESS executions; nothing leaves a terminal status.
const std::set<std::pair<execution_status, execution_status>> device_allowed = {
    {queued, in_progress}, {queued, succeeded},        {queued, failed},
    {queued, rejected},    {in_progress, in_progress}, {in_progress, succeeded},
    {in_progress, failed}, {in_progress, rejected}};
const std::set<std::pair<execution_status, execution_status>> service_allowed = {
    {queued, canceled},
    {queued, removed},
    {in_progress, canceled},
    {in_progress, removed},
    {in_progress, timed_out}};

TEST(JobsModel, NamesRoundTrip) {
  for (auto s : all_execution_statuses) EXPECT_EQ(parse_execution_status(to_string(s)), s);
  EXPECT_FALSE(parse_execution_status("SUCCESS"));
  EXPECT_FALSE(parse_execution_status("queued"));
  EXPECT_EQ(to_string(job_status::deletion_in_progress), "DELETION_IN_PROGRESS");
  EXPECT_EQ(parse_job_status("COMPLETED"), job_status::completed);
}

TEST(JobsModel, TerminalStatuses) {
  for (auto s : all_execution_statuses) {
    EXPECT_EQ(is_terminal(s), s != queued && s != in_progress) << to_string(s);
  }
}

TEST(JobsModel, TransitionTableMatchesAws) {
  int allowed = 0;
  for (auto from : all_execution_statuses) {
    for (auto to : all_execution_statuses) {
      const bool d = transition_allowed(from, to, actor::device);
      const bool s = transition_allowed(from, to, actor::service);
      EXPECT_EQ(d, device_allowed.contains({from, to}))
          << "device " << to_string(from) << " -> " << to_string(to);
      EXPECT_EQ(s, service_allowed.contains({from, to}))
          << "service " << to_string(from) << " -> " << to_string(to);
      allowed += d + s;
    }
  }
  EXPECT_EQ(allowed, 13);
}

// apply_update on every pair: allowed ones change status and version, refused ones leave
// the execution exactly as it was, with the documented code.
TEST(JobsModel, ApplyUpdateEveryPair) {
  for (auto from : all_execution_statuses) {
    for (auto to : all_execution_statuses) {
      execution e = queue("j", "t", 1, 100);
      e.status = from;
      const execution before = e;
      update_request u;
      u.status = to;
      const auto ec = apply_update(e, u, 200);
      const std::string label = std::string{to_string(from)} + " -> " + std::string{to_string(to)};
      if (device_allowed.contains({from, to})) {
        EXPECT_FALSE(ec) << label;
        EXPECT_EQ(e.status, to) << label;
        EXPECT_EQ(e.version, 2) << label;
        EXPECT_EQ(e.last_updated_at, 200) << label;
      } else {
        const bool by_service = from == canceled || from == removed || from == timed_out;
        EXPECT_EQ(ec, by_service ? error::terminal_state_reached : error::invalid_state_transition)
            << label;
        EXPECT_EQ(e, before) << label;
      }
    }
  }
}

TEST(JobsModel, ApplyServiceEveryPair) {
  for (auto from : all_execution_statuses) {
    for (auto to : all_execution_statuses) {
      execution e = queue("j", "t", 1, 100);
      e.status = from;
      e.step_deadline = 500;
      const execution before = e;
      const auto ec = apply_service(e, to, 300);
      if (service_allowed.contains({from, to})) {
        EXPECT_FALSE(ec);
        EXPECT_EQ(e.status, to);
        EXPECT_EQ(e.version, 1);  // versions count device updates
        EXPECT_EQ(e.deadline(), 0);
      } else {
        EXPECT_EQ(ec, error::invalid_state_transition);
        EXPECT_EQ(e, before);
      }
    }
  }
}

TEST(JobsModel, ExpectedVersion) {
  execution e = queue("j", "t", 1, 100);
  update_request u;
  u.status = in_progress;
  u.expected_version = 2;
  EXPECT_EQ(apply_update(e, u, 101), error::version_mismatch);
  EXPECT_EQ(e.version, 1);
  u.expected_version = 1;
  EXPECT_FALSE(apply_update(e, u, 101));
  EXPECT_EQ(e.version, 2);
  EXPECT_EQ(apply_update(e, u, 102), error::version_mismatch);  // 1 is stale now
  u.expected_version = 2;
  u.status = succeeded;
  EXPECT_FALSE(apply_update(e, u, 103));
  EXPECT_EQ(e.version, 3);
}

TEST(JobsModel, ExecutionNumberAndStatusRequired) {
  execution e = queue("j", "t", 1, 100);
  update_request u;
  EXPECT_EQ(apply_update(e, u, 101), error::invalid_request);
  u.status = in_progress;
  u.execution_number = 2;
  EXPECT_EQ(apply_update(e, u, 101), error::resource_not_found);
  u.execution_number = 1;
  EXPECT_FALSE(apply_update(e, u, 101));
}

TEST(JobsModel, TimersStartStopAndReset) {
  execution e = queue("j", "t", 1, 1000, /*in_progress_timeout_minutes=*/10);
  EXPECT_EQ(e.deadline(), 0);  // the in-progress timer starts with IN_PROGRESS
  update_request u;
  u.status = in_progress;
  u.step_timeout_minutes = 2;
  ASSERT_FALSE(apply_update(e, u, 1060));
  EXPECT_EQ(e.started_at, 1060);
  EXPECT_EQ(e.in_progress_deadline, 1060 + 600);
  EXPECT_EQ(e.step_deadline, 1060 + 120);
  EXPECT_EQ(e.deadline(), 1180);
  u.step_timeout_minutes = 20;  // reset: the earlier in-progress timer now rules
  ASSERT_FALSE(apply_update(e, u, 1100));
  EXPECT_EQ(e.deadline(), 1660);
  EXPECT_EQ(e.started_at, 1060);
  u.step_timeout_minutes.reset();  // no value: the step timer stays
  ASSERT_FALSE(apply_update(e, u, 1200));
  EXPECT_EQ(e.step_deadline, 1100 + 1200);
  u.status = succeeded;
  ASSERT_FALSE(apply_update(e, u, 1300));
  EXPECT_EQ(e.deadline(), 0);
  for (std::int64_t bad : {0, -1, 10081}) {
    execution f = queue("j", "t", 1, 1000);
    update_request v;
    v.status = in_progress;
    v.step_timeout_minutes = bad;
    EXPECT_EQ(apply_update(f, v, 1001), error::invalid_request) << bad;
  }
}

TEST(JobsModel, StatusDetailsReplaceAndLimits) {
  execution e = queue("j", "t", 1, 100);
  update_request u;
  u.status = in_progress;
  u.details = status_details{{"step", "download"}, {"pct", "10"}};
  ASSERT_FALSE(apply_update(e, u, 101));
  u.details = status_details{{"step", "flash"}};
  ASSERT_FALSE(apply_update(e, u, 102));
  EXPECT_EQ(e.details, (status_details{{"step", "flash"}}));
  u.details.reset();
  ASSERT_FALSE(apply_update(e, u, 103));
  EXPECT_EQ(e.details.size(), 1u);

  const limits l;
  EXPECT_EQ(check_status_details({{"a", "b"}}, l), "");
  EXPECT_NE(check_status_details({{"", "b"}}, l), "");
  EXPECT_NE(check_status_details({{"a b", "b"}}, l), "");
  EXPECT_NE(check_status_details({{std::string(129, 'k'), "b"}}, l), "");
  EXPECT_EQ(check_status_details({{std::string(128, 'k'), "b"}}, l), "");
  EXPECT_NE(check_status_details({{"a", ""}}, l), "");
  EXPECT_NE(check_status_details({{"a", "line\nbreak"}}, l), "");
  EXPECT_EQ(check_status_details({{"a", std::string(1024, 'v')}}, l), "");
  EXPECT_NE(check_status_details({{"a", std::string(1025, 'v')}}, l), "");
  std::string accents;
  for (int i = 0; i < 1024; ++i) accents += "\xc3\xa9";  // 1024 characters, 2048 bytes
  EXPECT_EQ(check_status_details({{"a", accents}}, l), "");
  status_details many;
  for (int i = 0; i < 65; ++i) many["k" + std::to_string(i)] = "v";
  EXPECT_NE(check_status_details(many, l), "");
}

TEST(JobsModel, Names) {
  EXPECT_TRUE(valid_thing_name("lamp:1_a-b", 128));
  EXPECT_FALSE(valid_thing_name("", 128));
  EXPECT_FALSE(valid_thing_name("a/b", 128));
  EXPECT_FALSE(valid_thing_name(std::string(129, 'a'), 128));
  EXPECT_TRUE(valid_job_id("fw-1_2", 64));
  EXPECT_FALSE(valid_job_id("fw:1", 64));
  EXPECT_FALSE(valid_job_id("$next", 64));
}

}  // namespace
