// postgres::jobs_store: every read a prepared statement, every commit one transaction whose
// writes of jobs and executions are conditional on the revision this process read.
#include <iotblocks/jobs/config.hpp>
#include <iotblocks/jobs/error.hpp>
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/jobs_store.hpp>

#include "jobs/store_rows.hpp"
#include "postgres/columns.hpp"
#include "postgres/connection.hpp"
#include "postgres/prepared.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace iotblocks::postgres {
namespace {

constexpr int schema_version = 2;

// Text columns compare in byte order (COLLATE "C"), as the SQLite store's do. `revision`
// moves with every write of the row; `deadline`, `open` and `rolling` are copies of what
// the row's other columns say, for the indexes of due() and rolling_out().
constexpr const char* create_v1[] = {
    "CREATE TABLE iotblocks_jobs("
    "id text COLLATE \"C\" PRIMARY KEY, document text NOT NULL, description text NOT NULL, "
    "targets text NOT NULL, continuous boolean NOT NULL, status text NOT NULL, "
    "in_progress_timeout_minutes bigint NOT NULL, force_canceled boolean NOT NULL, "
    "created_at bigint NOT NULL, last_updated_at bigint NOT NULL, completed_at bigint NOT NULL, "
    "open_executions bigint NOT NULL, config text NOT NULL, rolling boolean NOT NULL, "
    "revision bigint NOT NULL)",
    "CREATE TABLE iotblocks_job_executions("
    "thing text COLLATE \"C\" NOT NULL, job_id text COLLATE \"C\" NOT NULL, "
    "status text NOT NULL, status_details text NOT NULL, version bigint NOT NULL, "
    "execution_number bigint NOT NULL, sequence bigint NOT NULL, queued_at bigint NOT NULL, "
    "started_at bigint NOT NULL, last_updated_at bigint NOT NULL, "
    "in_progress_timeout_minutes bigint NOT NULL, in_progress_deadline bigint NOT NULL, "
    "step_deadline bigint NOT NULL, retry_attempt bigint NOT NULL, open boolean NOT NULL, "
    "deadline bigint NOT NULL, revision bigint NOT NULL, PRIMARY KEY(thing, job_id))",
    "CREATE INDEX iotblocks_job_executions_by_job ON iotblocks_job_executions(job_id)",
    "CREATE INDEX iotblocks_job_executions_by_sequence ON iotblocks_job_executions(sequence)",
    "CREATE INDEX iotblocks_job_executions_due ON iotblocks_job_executions(deadline) "
    "WHERE open AND deadline > 0",
    "CREATE TABLE iotblocks_job_templates(id text COLLATE \"C\" PRIMARY KEY, body text NOT NULL)",
    "CREATE TABLE iotblocks_job_rollout_targets("
    "job_id text COLLATE \"C\" NOT NULL, position bigint NOT NULL, thing text NOT NULL, "
    "PRIMARY KEY(job_id, position))",
};

// Version 2: `schedule_at` (jobs::schedule_at(): when the job's schedule next acts, 0 for
// never), so that a tick reads the jobs whose schedule is due through an index.
// and the attempts a retry ended (jobs::store::attempts), which DescribeJobExecution reads.
constexpr const char* migrate_v2[] = {
    "ALTER TABLE iotblocks_jobs ADD COLUMN schedule_at bigint NOT NULL DEFAULT 0",
    "CREATE TABLE iotblocks_job_execution_attempts("
    "thing text COLLATE \"C\" NOT NULL, job_id text COLLATE \"C\" NOT NULL, "
    "status text NOT NULL, status_details text NOT NULL, version bigint NOT NULL, "
    "execution_number bigint NOT NULL, sequence bigint NOT NULL, queued_at bigint NOT NULL, "
    "started_at bigint NOT NULL, last_updated_at bigint NOT NULL, "
    "in_progress_timeout_minutes bigint NOT NULL, in_progress_deadline bigint NOT NULL, "
    "step_deadline bigint NOT NULL, retry_attempt bigint NOT NULL, "
    "PRIMARY KEY(thing, job_id, execution_number))",
    "CREATE INDEX iotblocks_job_execution_attempts_by_job "
    "ON iotblocks_job_execution_attempts(job_id)",
    "CREATE INDEX iotblocks_jobs_schedule ON iotblocks_jobs(schedule_at) WHERE schedule_at > 0",
};
/// The rows version 1 left whose schedule_at is to be set (their config holds a schedule).
constexpr const char* scheduled_v1_sql =
    "SELECT id, status, config FROM iotblocks_jobs WHERE config LIKE '%\"scheduling\"%'";
constexpr const char* set_schedule_at_sql =
    "UPDATE iotblocks_jobs SET schedule_at = $2 WHERE id = $1";

#define IOTBLOCKS_JOB_COLUMNS                                                             \
  "id, document, description, targets, continuous, status, in_progress_timeout_minutes, " \
  "force_canceled, created_at, last_updated_at, completed_at, open_executions, config, revision"
#define IOTBLOCKS_EXECUTION_COLUMNS                                                         \
  "thing, job_id, status, status_details, version, execution_number, sequence, queued_at, " \
  "started_at, last_updated_at, in_progress_timeout_minutes, in_progress_deadline, "        \
  "step_deadline, retry_attempt, revision"

constexpr const char* find_job_sql =
    "SELECT " IOTBLOCKS_JOB_COLUMNS " FROM iotblocks_jobs WHERE id = $1";
constexpr const char* find_document_sql = "SELECT document FROM iotblocks_jobs WHERE id = $1";
constexpr const char* find_execution_sql = "SELECT " IOTBLOCKS_EXECUTION_COLUMNS
                                           " FROM iotblocks_job_executions "
                                           "WHERE thing = $1 AND job_id = $2";
constexpr const char* pending_sql = "SELECT " IOTBLOCKS_EXECUTION_COLUMNS
                                    " FROM iotblocks_job_executions WHERE thing = $1 AND open "
                                    "ORDER BY status <> 'IN_PROGRESS', sequence, job_id";
constexpr const char* executions_of_sql =
    "SELECT " IOTBLOCKS_EXECUTION_COLUMNS " FROM iotblocks_job_executions WHERE job_id = $1";
constexpr const char* executions_for_sql = "SELECT " IOTBLOCKS_EXECUTION_COLUMNS
                                           " FROM iotblocks_job_executions WHERE thing = $1 "
                                           "ORDER BY sequence, job_id";
constexpr const char* due_sql = "SELECT " IOTBLOCKS_EXECUTION_COLUMNS
                                " FROM iotblocks_job_executions "
                                "WHERE open AND deadline > 0 AND deadline <= $1 ORDER BY deadline";
constexpr const char* last_sequence_sql =
    "SELECT COALESCE(MAX(sequence), 0) FROM iotblocks_job_executions";
constexpr const char* job_ids_sql = "SELECT id FROM iotblocks_jobs ORDER BY id";
constexpr const char* rollout_targets_sql =
    "SELECT thing FROM iotblocks_job_rollout_targets WHERE job_id = $1 "
    "ORDER BY position OFFSET $2 LIMIT $3";
constexpr const char* rolling_out_sql = "SELECT id FROM iotblocks_jobs WHERE rolling ORDER BY id";
constexpr const char* scheduled_sql =
    "SELECT id FROM iotblocks_jobs WHERE schedule_at > 0 ORDER BY id";
constexpr const char* schedule_due_sql =
    "SELECT id FROM iotblocks_jobs WHERE schedule_at > 0 AND schedule_at <= $1 ORDER BY id";
// An attempt has no revision (it never changes): 0 in its place, never noted.
constexpr const char* attempts_sql =
    "SELECT thing, job_id, status, status_details, version, execution_number, sequence, "
    "queued_at, started_at, last_updated_at, in_progress_timeout_minutes, in_progress_deadline, "
    "step_deadline, retry_attempt, 0 FROM iotblocks_job_execution_attempts "
    "WHERE thing = $1 AND job_id = $2 ORDER BY execution_number";
constexpr const char* insert_attempt_sql =
    "INSERT INTO iotblocks_job_execution_attempts(thing, job_id, status, status_details, "
    "version, execution_number, sequence, queued_at, started_at, last_updated_at, "
    "in_progress_timeout_minutes, in_progress_deadline, step_deadline, retry_attempt) "
    "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
    "ON CONFLICT(thing, job_id, execution_number) DO NOTHING";
constexpr const char* erase_attempts_sql =
    "DELETE FROM iotblocks_job_execution_attempts WHERE thing = $1 AND job_id = $2";
constexpr const char* erase_job_attempts_sql =
    "DELETE FROM iotblocks_job_execution_attempts WHERE job_id = $1";
constexpr const char* find_template_sql = "SELECT body FROM iotblocks_job_templates WHERE id = $1";
constexpr const char* template_ids_sql = "SELECT id FROM iotblocks_job_templates ORDER BY id";

constexpr const char* insert_job_sql =
    "INSERT INTO iotblocks_jobs(" IOTBLOCKS_JOB_COLUMNS
    ", rolling, schedule_at) "
    "VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, $14, $15) "
    "ON CONFLICT(id) DO NOTHING";
constexpr const char* update_job_sql =
    "UPDATE iotblocks_jobs SET document = $2, description = $3, targets = $4, continuous = $5, "
    "status = $6, in_progress_timeout_minutes = $7, force_canceled = $8, created_at = $9, "
    "last_updated_at = $10, completed_at = $11, open_executions = $12, config = $13, "
    "rolling = $14, schedule_at = $16, revision = revision + 1 WHERE id = $1 AND revision = $15";
constexpr const char* insert_execution_sql =
    "INSERT INTO iotblocks_job_executions(" IOTBLOCKS_EXECUTION_COLUMNS
    ", open, deadline) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, "
    "$15, $16) ON CONFLICT(thing, job_id) DO NOTHING";
constexpr const char* update_execution_sql =
    "UPDATE iotblocks_job_executions SET status = $3, status_details = $4, version = $5, "
    "execution_number = $6, sequence = $7, queued_at = $8, started_at = $9, "
    "last_updated_at = $10, in_progress_timeout_minutes = $11, in_progress_deadline = $12, "
    "step_deadline = $13, retry_attempt = $14, open = $15, deadline = $16, "
    "revision = revision + 1 WHERE thing = $1 AND job_id = $2 AND revision = $17";
constexpr const char* erase_job_sql = "DELETE FROM iotblocks_jobs WHERE id = $1";
constexpr const char* erase_job_at_sql =
    "DELETE FROM iotblocks_jobs WHERE id = $1 AND revision = $2";
constexpr const char* erase_job_executions_sql =
    "DELETE FROM iotblocks_job_executions WHERE job_id = $1";
constexpr const char* erase_rollout_sql =
    "DELETE FROM iotblocks_job_rollout_targets WHERE job_id = $1";
constexpr const char* erase_execution_sql =
    "DELETE FROM iotblocks_job_executions WHERE thing = $1 AND job_id = $2";
constexpr const char* erase_execution_at_sql =
    "DELETE FROM iotblocks_job_executions WHERE thing = $1 AND job_id = $2 AND revision = $3";
constexpr const char* upsert_template_sql =
    "INSERT INTO iotblocks_job_templates(id, body) VALUES($1, $2) "
    "ON CONFLICT(id) DO UPDATE SET body = excluded.body";
constexpr const char* erase_template_sql = "DELETE FROM iotblocks_job_templates WHERE id = $1";
// After the job's last position; the caller locks the job's row first, so that two processes
// appending to one rollout take turns.
// The change feed (postgres::jobs_changes): one NOTIFY per up to notify_bytes of thing
// names ('\n' between them; AWS thing names have none), delivered at COMMIT.
constexpr const char* notify_sql = "SELECT pg_notify('iotblocks_jobs', $1)";
constexpr const char* open_things_of_job_sql =
    "SELECT DISTINCT thing FROM iotblocks_job_executions WHERE job_id = $1 AND open";
constexpr std::size_t notify_bytes = 7000;  // a NOTIFY payload holds < 8000 bytes
constexpr const char* lock_job_sql = "SELECT 1 FROM iotblocks_jobs WHERE id = $1 FOR UPDATE";
constexpr const char* append_rollout_sql =
    "INSERT INTO iotblocks_job_rollout_targets(job_id, position, thing) "
    "SELECT $1, COALESCE(MAX(position), -1) + 1, $2 FROM iotblocks_job_rollout_targets "
    "WHERE job_id = $1";

#undef IOTBLOCKS_JOB_COLUMNS
#undef IOTBLOCKS_EXECUTION_COLUMNS

using detail::to_int64;

std::string num(std::int64_t v) { return std::to_string(v); }
std::string num(std::uint64_t v) { return std::to_string(v); }
const char* flag(bool b) { return b ? "true" : "false"; }

bool rolling(const jobs::job& j) {
  return j.status == jobs::job_status::in_progress && jobs::rolls_out(j) && !j.progress.done();
}

bool touched_none(const detail::rows& r) { return std::string_view(PQcmdTuples(r.get())) == "0"; }

failure changed(std::string_view what) {
  return {jobs::error::store_changed, std::string(what) + " changed by another process", {}};
}

std::string execution_key(std::string_view thing, std::string_view job_id) {
  std::string k = "e";
  k += thing;
  k += '\0';
  k += job_id;
  return k;
}
std::string job_key(std::string_view id) { return "j" + std::string(id); }

}  // namespace

struct jobs_store::impl {
  detail::connection conn;
  detail::prepared statements;
  std::mutex mu;  // the connection, the statements and `seen`
  /// Rows read since begin_reads(): key → revision of the first read.
  std::map<std::string, std::int64_t, std::less<>> seen;
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> rows_read{0};

  explicit impl(detail::connection c) : conn(std::move(c)) {}

  /// A statement outside a transaction, after replacing a dropped connection.
  result<detail::rows> read(const char* name, const char* sql,
                            std::initializer_list<detail::param> params) {
    if (PQstatus(conn.native()) == CONNECTION_BAD) PQreset(conn.native());
    auto r = statements.exec(conn, name, sql, params);
    if (r) rows_read.fetch_add(static_cast<std::uint64_t>(PQntuples(r->get())));
    return r;
  }

  void note(std::string key, std::string_view revision) {
    if (auto r = to_int64(revision)) seen.try_emplace(std::move(key), *r);
  }
  std::optional<std::int64_t> seen_at(const std::string& key) const {
    auto it = seen.find(key);
    if (it == seen.end()) return std::nullopt;
    return it->second;
  }

  /// Row `i` of a SELECT of the execution columns; nullopt if it does not read back. Its
  /// revision is noted unless `note_revision` is false (an attempt's row has none).
  std::optional<jobs::execution> execution_at(const detail::rows& r, int i,
                                              bool note_revision = true) {
    auto t = [&](int col) { return detail::text(r, i, col); };
    jobs::execution e;
    e.thing = std::string(t(0));
    e.job_id = std::string(t(1));
    auto status = jobs::parse_execution_status(t(2));
    if (!status || !jobs::detail::read_details(t(3), e.details)) return std::nullopt;
    e.status = *status;
    std::int64_t* ints[] = {&e.version,
                            &e.execution_number,
                            nullptr,
                            &e.queued_at,
                            &e.started_at,
                            &e.last_updated_at,
                            &e.in_progress_timeout_minutes,
                            &e.in_progress_deadline,
                            &e.step_deadline,
                            &e.retry_attempt};
    for (int c = 0; c < 10; ++c) {
      auto v = to_int64(t(4 + c));
      if (!v) return std::nullopt;
      if (ints[c] != nullptr) {
        *ints[c] = *v;
      } else {
        e.sequence = static_cast<std::uint64_t>(*v);
      }
    }
    if (note_revision) note(execution_key(e.thing, e.job_id), t(14));
    return e;
  }

  std::vector<jobs::execution> executions(const char* name, const char* sql,
                                          std::initializer_list<detail::param> params) {
    std::vector<jobs::execution> out;
    auto r = read(name, sql, params);
    if (!r) return out;
    const int n = PQntuples(r->get());
    out.reserve(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      if (auto e = execution_at(*r, i)) out.push_back(std::move(*e));
    }
    return out;
  }

  std::vector<std::string> ids(const char* name, const char* sql,
                               std::initializer_list<detail::param> params = {}) {
    std::vector<std::string> out;
    auto r = read(name, sql, params);
    if (!r) return out;
    for (int i = 0; i < PQntuples(r->get()); ++i) out.emplace_back(detail::text(*r, i, 0));
    return out;
  }

  result<detail::rows> exec(const char* name, const char* sql,
                            std::initializer_list<detail::param> params) {
    return statements.exec(conn, name, sql, params);
  }

  result<void> write_job(const jobs::job& j) {
    const std::string targets = jobs::detail::targets_json(j.targets);
    const std::string config = jobs::detail::config_json(j);
    const std::string timeout = num(j.in_progress_timeout_minutes), created = num(j.created_at),
                      updated = num(j.last_updated_at), completed = num(j.completed_at),
                      open = num(static_cast<std::uint64_t>(j.open_executions)),
                      schedule = num(jobs::schedule_at(j));
    const auto at = seen_at(job_key(j.id));
    const std::string revision = at ? num(*at) : std::string{};
    auto r = at ? exec("jobs_update_job", update_job_sql,
                       {j.id, j.document, j.description, targets, flag(j.continuous),
                        jobs::to_string(j.status), timeout, flag(j.force_canceled), created,
                        updated, completed, open, config, flag(rolling(j)), revision, schedule})
                : exec("jobs_insert_job", insert_job_sql,
                       {j.id, j.document, j.description, targets, flag(j.continuous),
                        jobs::to_string(j.status), timeout, flag(j.force_canceled), created,
                        updated, completed, open, config, flag(rolling(j)), schedule});
    if (!r) return std::move(r).take_failure();
    if (touched_none(*r)) return changed("job " + j.id);
    return {};
  }

  result<void> write_execution(const jobs::execution& e) {
    const std::string details = jobs::detail::details_json(e.details);
    const std::string version = num(e.version), number = num(e.execution_number),
                      sequence = num(e.sequence), queued = num(e.queued_at),
                      started = num(e.started_at), updated = num(e.last_updated_at),
                      timeout = num(e.in_progress_timeout_minutes),
                      in_progress = num(e.in_progress_deadline), step = num(e.step_deadline),
                      attempt = num(e.retry_attempt), deadline = num(e.deadline());
    const char* open = flag(!jobs::is_terminal(e.status));
    const auto at = seen_at(execution_key(e.thing, e.job_id));
    const std::string revision = at ? num(*at) : std::string{};
    auto r =
        at ? exec("jobs_update_execution", update_execution_sql,
                  {e.thing, e.job_id, jobs::to_string(e.status), details, version, number, sequence,
                   queued, started, updated, timeout, in_progress, step, attempt, open, deadline,
                   revision})
           : exec("jobs_insert_execution", insert_execution_sql,
                  {e.thing, e.job_id, jobs::to_string(e.status), details, version, number, sequence,
                   queued, started, updated, timeout, in_progress, step, attempt, open, deadline});
    if (!r) return std::move(r).take_failure();
    if (touched_none(*r)) return changed("execution " + e.thing + "/" + e.job_id);
    return {};
  }

  /// NOTIFY iotblocks_jobs with the things whose executions `b` changes.
  result<void> notify(const jobs::batch& b, std::vector<std::string> things) {
    for (const auto& e : b.executions) things.push_back(e.thing);
    for (const auto& [thing, job_id] : b.erased_executions) things.push_back(thing);
    std::sort(things.begin(), things.end());
    things.erase(std::unique(things.begin(), things.end()), things.end());
    std::string payload;
    for (std::size_t i = 0; i < things.size(); ++i) {
      if (!payload.empty()) payload += '\n';
      payload += things[i];
      if (payload.size() < notify_bytes && i + 1 < things.size()) continue;
      if (auto r = exec("jobs_notify", notify_sql, {payload}); !r) {
        return std::move(r).take_failure();
      }
      payload.clear();
    }
    return {};
  }

  /// Erasures first, then templates, rollouts, jobs and executions (as memory_store); then
  /// the change feed's NOTIFY.
  result<void> write(const jobs::batch& b) {
    std::vector<std::string> erased_things;  // open executions of the erased jobs
    for (const auto& id : b.erased_jobs) {
      auto open_things = exec("jobs_open_things_of_job", open_things_of_job_sql, {id});
      if (!open_things) return std::move(open_things).take_failure();
      for (int i = 0; i < PQntuples(open_things->get()); ++i) {
        erased_things.emplace_back(detail::text(*open_things, i, 0));
      }
      if (auto at = seen_at(job_key(id))) {
        auto r = exec("jobs_erase_job_at", erase_job_at_sql, {id, num(*at)});
        if (!r) return std::move(r).take_failure();
        if (touched_none(*r)) return changed("job " + id);
      } else if (auto r = exec("jobs_erase_job", erase_job_sql, {id}); !r) {
        return std::move(r).take_failure();
      }
      if (auto r = exec("jobs_erase_job_executions", erase_job_executions_sql, {id}); !r) {
        return std::move(r).take_failure();
      }
      if (auto r = exec("jobs_erase_rollout", erase_rollout_sql, {id}); !r) {
        return std::move(r).take_failure();
      }
      if (auto r = exec("jobs_erase_job_attempts", erase_job_attempts_sql, {id}); !r) {
        return std::move(r).take_failure();
      }
    }
    for (const auto& [thing, job_id] : b.erased_executions) {
      if (auto at = seen_at(execution_key(thing, job_id))) {
        auto r = exec("jobs_erase_execution_at", erase_execution_at_sql, {thing, job_id, num(*at)});
        if (!r) return std::move(r).take_failure();
        if (touched_none(*r)) return changed("execution " + thing + "/" + job_id);
      } else if (auto r = exec("jobs_erase_execution", erase_execution_sql, {thing, job_id}); !r) {
        return std::move(r).take_failure();
      }
      if (auto r = exec("jobs_erase_attempts", erase_attempts_sql, {thing, job_id}); !r) {
        return std::move(r).take_failure();
      }
    }
    for (const auto& id : b.erased_templates) {
      if (auto r = exec("jobs_erase_template", erase_template_sql, {id}); !r) {
        return std::move(r).take_failure();
      }
    }
    for (const auto& t : b.templates) {
      const std::string body = jobs::to_json(t);
      if (auto r = exec("jobs_upsert_template", upsert_template_sql, {t.id, body}); !r) {
        return std::move(r).take_failure();
      }
    }
    for (const auto& j : b.jobs) {
      if (auto r = write_job(j); !r) return r;
    }
    for (const auto& [id, things] : b.rollouts) {
      if (auto r = exec("jobs_lock_job", lock_job_sql, {id}); !r) {
        return std::move(r).take_failure();
      }
      for (const auto& thing : things) {
        if (auto r = exec("jobs_append_rollout", append_rollout_sql, {id, thing}); !r) {
          return std::move(r).take_failure();
        }
      }
    }
    for (const auto& e : b.executions) {
      if (auto r = write_execution(e); !r) return r;
    }
    for (const auto& e : b.attempts) {
      const std::string details = jobs::detail::details_json(e.details);
      auto r = exec("jobs_insert_attempt", insert_attempt_sql,
                    {e.thing, e.job_id, jobs::to_string(e.status), details, num(e.version),
                     num(e.execution_number), num(e.sequence), num(e.queued_at), num(e.started_at),
                     num(e.last_updated_at), num(e.in_progress_timeout_minutes),
                     num(e.in_progress_deadline), num(e.step_deadline), num(e.retry_attempt)});
      if (!r) return std::move(r).take_failure();
    }
    return notify(b, std::move(erased_things));
  }
};

namespace {

/// The schedule_at column, with the value of each row that has a schedule.
result<void> migrate_to_v2(detail::connection& c) {
  for (const char* sql : migrate_v2) {
    if (auto r = c.run(sql); !r) return r;
  }
  auto rows = c.exec(scheduled_v1_sql);
  if (!rows) return std::move(rows).take_failure();
  for (int i = 0; i < PQntuples(rows->get()); ++i) {
    jobs::job j;
    auto status = jobs::parse_job_status(detail::text(*rows, i, 1));
    if (!status || !jobs::detail::read_config(detail::text(*rows, i, 2), j).empty()) continue;
    j.status = *status;
    const auto at = jobs::schedule_at(j);
    if (at == 0) continue;
    if (auto r = c.run(set_schedule_at_sql, {detail::text(*rows, i, 0), num(at)}); !r) return r;
  }
  return {};
}

}  // namespace

jobs_store::jobs_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
jobs_store::~jobs_store() = default;

result<std::unique_ptr<jobs_store>> jobs_store::open(const std::string& url) {
  auto conn = detail::connection::open(url);
  if (!conn) return std::move(conn).take_failure();
  auto p = std::make_unique<impl>(std::move(*conn));
  auto& c = p->conn;
  if (auto r = c.run("SET client_min_messages = warning"); !r) return r.fail();
  auto version = c.lock_schema("jobs");
  if (!version) return std::move(version).take_failure();
  if (*version > schema_version) {
    (void)c.run("ROLLBACK");
    return failure{error::schema_too_new,
                   "jobs schema version " + std::to_string(*version) +
                       " is newer than this build's " + std::to_string(schema_version),
                   {}};
  }
  if (*version < 1) {
    for (const char* sql : create_v1) {
      if (auto r = c.run(sql); !r) return (void)c.run("ROLLBACK"), r.fail();
    }
  }
  if (*version < 2) {
    if (auto r = migrate_to_v2(c); !r) return (void)c.run("ROLLBACK"), r.fail();
    if (auto r = c.set_schema("jobs", 2); !r) return (void)c.run("ROLLBACK"), r.fail();
  }
  if (auto r = c.run("COMMIT"); !r) return r.fail();
  return std::unique_ptr<jobs_store>(new jobs_store(std::move(p)));
}

std::error_code jobs_store::commit(const jobs::batch& b) {
  if (b.empty()) return {};
  std::lock_guard lock{p_->mu};
  auto r = p_->conn.begin();
  if (r) r = p_->write(b);
  if (r) {
    r = p_->conn.run("COMMIT");
    if (r) p_->commits.fetch_add(1, std::memory_order_relaxed);
  } else {
    (void)p_->conn.run("ROLLBACK");
  }
  p_->seen.clear();  // the rows written moved on; the service reads again before its next write
  if (r) return {};
  const auto state = detail::sqlstate(r.fail());
  // Two processes inserting one row, or serialised writers that deadlocked: read and retry.
  if (state == "23505" || state == "40P01" || state == "40001") return jobs::error::store_changed;
  return r.error();
}

void jobs_store::begin_reads() {
  std::lock_guard lock{p_->mu};
  p_->seen.clear();
}

std::optional<jobs::job> jobs_store::find_job(std::string_view id) const {
  std::lock_guard lock{p_->mu};
  auto r = p_->read("jobs_find_job", find_job_sql, {id});
  if (!r || PQntuples(r->get()) != 1) return std::nullopt;
  auto t = [&](int col) { return detail::text(*r, 0, col); };
  jobs::job j;
  j.id = std::string(t(0));
  j.document = std::string(t(1));
  j.description = std::string(t(2));
  auto status = jobs::parse_job_status(t(5));
  auto timeout = to_int64(t(6));
  auto created = to_int64(t(8));
  auto updated = to_int64(t(9));
  auto completed = to_int64(t(10));
  auto open = to_int64(t(11));
  if (!jobs::detail::read_targets(t(3), j.targets) || !status || !timeout || !created || !updated ||
      !completed || !open || *open < 0 || !jobs::detail::read_config(t(12), j).empty()) {
    return std::nullopt;
  }
  j.continuous = t(4) == "t";
  j.status = *status;
  j.in_progress_timeout_minutes = *timeout;
  j.force_canceled = t(7) == "t";
  j.created_at = *created;
  j.last_updated_at = *updated;
  j.completed_at = *completed;
  j.open_executions = static_cast<std::size_t>(*open);
  p_->note(job_key(j.id), t(13));
  return j;
}

std::optional<std::string> jobs_store::find_document(std::string_view id) const {
  std::lock_guard lock{p_->mu};
  auto r = p_->read("jobs_find_document", find_document_sql, {id});
  if (!r || PQntuples(r->get()) != 1) return std::nullopt;
  return std::string(detail::text(*r, 0, 0));
}

std::optional<jobs::execution> jobs_store::find_execution(std::string_view thing,
                                                          std::string_view job_id) const {
  std::lock_guard lock{p_->mu};
  auto r = p_->read("jobs_find_execution", find_execution_sql, {thing, job_id});
  if (!r || PQntuples(r->get()) != 1) return std::nullopt;
  return p_->execution_at(*r, 0);
}

std::vector<jobs::execution> jobs_store::pending(std::string_view thing) const {
  std::lock_guard lock{p_->mu};
  return p_->executions("jobs_pending", pending_sql, {thing});
}

std::vector<jobs::execution> jobs_store::executions_of(std::string_view job_id) const {
  std::lock_guard lock{p_->mu};
  return p_->executions("jobs_executions_of", executions_of_sql, {job_id});
}

std::vector<jobs::execution> jobs_store::executions_for(std::string_view thing) const {
  std::lock_guard lock{p_->mu};
  return p_->executions("jobs_executions_for", executions_for_sql, {thing});
}

std::vector<jobs::execution> jobs_store::due(std::int64_t now) const {
  std::lock_guard lock{p_->mu};
  return p_->executions("jobs_due", due_sql, {num(now)});
}

std::uint64_t jobs_store::last_sequence() const {
  std::lock_guard lock{p_->mu};
  auto r = p_->read("jobs_last_sequence", last_sequence_sql, {});
  if (!r || PQntuples(r->get()) != 1) return 0;
  auto v = to_int64(detail::text(*r, 0, 0));
  return v && *v > 0 ? static_cast<std::uint64_t>(*v) : 0;
}

std::vector<std::string> jobs_store::job_ids() const {
  std::lock_guard lock{p_->mu};
  return p_->ids("jobs_job_ids", job_ids_sql);
}

std::vector<std::string> jobs_store::rollout_targets(std::string_view job_id, std::size_t from,
                                                     std::size_t count) const {
  std::lock_guard lock{p_->mu};
  return p_->ids(
      "jobs_rollout_targets", rollout_targets_sql,
      {job_id, num(static_cast<std::uint64_t>(from)), num(static_cast<std::uint64_t>(count))});
}

std::vector<std::string> jobs_store::rolling_out() const {
  std::lock_guard lock{p_->mu};
  return p_->ids("jobs_rolling_out", rolling_out_sql);
}

std::vector<jobs::execution> jobs_store::attempts(std::string_view thing,
                                                  std::string_view job_id) const {
  std::lock_guard lock{p_->mu};
  std::vector<jobs::execution> out;
  auto r = p_->read("jobs_attempts", attempts_sql, {thing, job_id});
  if (!r) return out;
  for (int i = 0; i < PQntuples(r->get()); ++i) {
    if (auto e = p_->execution_at(*r, i, false)) out.push_back(std::move(*e));
  }
  return out;
}

std::vector<std::string> jobs_store::scheduled() const {
  std::lock_guard lock{p_->mu};
  return p_->ids("jobs_scheduled", scheduled_sql);
}

std::vector<std::string> jobs_store::schedule_due(std::int64_t now) const {
  std::lock_guard lock{p_->mu};
  return p_->ids("jobs_schedule_due", schedule_due_sql, {num(now)});
}

std::optional<jobs::job_template> jobs_store::find_template(std::string_view id) const {
  std::lock_guard lock{p_->mu};
  auto r = p_->read("jobs_find_template", find_template_sql, {id});
  if (!r || PQntuples(r->get()) != 1) return std::nullopt;
  auto t = jobs::parse_job_template(detail::text(*r, 0, 0));
  if (!t) return std::nullopt;
  return std::move(*t);
}

std::vector<std::string> jobs_store::template_ids() const {
  std::lock_guard lock{p_->mu};
  return p_->ids("jobs_template_ids", template_ids_sql);
}

std::uint64_t jobs_store::rows_read() const noexcept {
  return p_->rows_read.load(std::memory_order_relaxed);
}

std::uint64_t jobs_store::commits() const noexcept {
  return p_->commits.load(std::memory_order_relaxed);
}

}  // namespace iotblocks::postgres
