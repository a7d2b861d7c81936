// jobs::sqlite_store: the file is the record, a memory_store the copy reads are served from.
#include <iotblocks/jobs/store.hpp>

#include "core/group_commit.hpp"
#include "core/json.hpp"
#include "core/sqlite.hpp"
#include "jobs/store_rows.hpp"

#include <iotblocks/jobs/config.hpp>

#include <atomic>
#include <mutex>

namespace iotblocks::jobs {
namespace {

// Statuses are stored as their AWS names, so that the file reads without this code.
constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS jobs(
  id TEXT PRIMARY KEY,
  document TEXT NOT NULL,
  description TEXT NOT NULL,
  targets TEXT NOT NULL,       -- a JSON array of strings
  continuous INTEGER NOT NULL,
  status TEXT NOT NULL,
  in_progress_timeout_minutes INTEGER NOT NULL,
  force_canceled INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  last_updated_at INTEGER NOT NULL,
  completed_at INTEGER NOT NULL,
  open_executions INTEGER NOT NULL,
  config TEXT NOT NULL DEFAULT '{}');  -- rollout, abort, retry, counts: see config_json()
CREATE TABLE IF NOT EXISTS executions(
  thing TEXT NOT NULL,
  job_id TEXT NOT NULL,
  status TEXT NOT NULL,
  status_details TEXT NOT NULL,  -- a JSON object of strings
  version INTEGER NOT NULL,
  execution_number INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  queued_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_updated_at INTEGER NOT NULL,
  in_progress_timeout_minutes INTEGER NOT NULL,
  in_progress_deadline INTEGER NOT NULL,
  step_deadline INTEGER NOT NULL,
  retry_attempt INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(thing, job_id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS executions_by_job ON executions(job_id);
CREATE TABLE IF NOT EXISTS job_templates(
  id TEXT PRIMARY KEY,
  body TEXT NOT NULL);  -- DescribeJobTemplate's shape (jobs::to_json(job_template))
CREATE TABLE IF NOT EXISTS rollout_targets(
  job_id TEXT NOT NULL,
  position INTEGER NOT NULL,
  thing TEXT NOT NULL,
  PRIMARY KEY(job_id, position)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS execution_attempts(  -- attempts a retry ended: executions' columns
  thing TEXT NOT NULL,
  job_id TEXT NOT NULL,
  status TEXT NOT NULL,
  status_details TEXT NOT NULL,
  version INTEGER NOT NULL,
  execution_number INTEGER NOT NULL,
  sequence INTEGER NOT NULL,
  queued_at INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  last_updated_at INTEGER NOT NULL,
  in_progress_timeout_minutes INTEGER NOT NULL,
  in_progress_deadline INTEGER NOT NULL,
  step_deadline INTEGER NOT NULL,
  retry_attempt INTEGER NOT NULL,
  PRIMARY KEY(thing, job_id, execution_number)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS execution_attempts_by_job ON execution_attempts(job_id);
CREATE TABLE IF NOT EXISTS announced_pushes(  -- pushes owed, for the process that publishes
  thing TEXT PRIMARY KEY,
  pending TEXT NOT NULL,  -- a JSON array of "jobId#executionNumber", as the devices knew it
  next TEXT NOT NULL) WITHOUT ROWID;
)sql";

constexpr const char* upsert_job_sql =
    "INSERT OR REPLACE INTO jobs(id, document, status, in_progress_timeout_minutes, "
    "force_canceled, created_at, last_updated_at, completed_at, open_executions, description, "
    "targets, continuous, config) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
#define IOTBLOCKS_EXECUTION_COLUMNS                                                         \
  "thing, job_id, status, status_details, version, execution_number, sequence, queued_at, " \
  "started_at, last_updated_at, in_progress_timeout_minutes, in_progress_deadline, "        \
  "step_deadline, retry_attempt"
constexpr const char* upsert_execution_sql =
    "INSERT OR REPLACE INTO executions(" IOTBLOCKS_EXECUTION_COLUMNS
    ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
constexpr const char* upsert_attempt_sql =
    "INSERT OR REPLACE INTO execution_attempts(" IOTBLOCKS_EXECUTION_COLUMNS
    ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
constexpr const char* select_executions_sql =
    "SELECT " IOTBLOCKS_EXECUTION_COLUMNS " FROM executions";
constexpr const char* select_attempts_sql =
    "SELECT " IOTBLOCKS_EXECUTION_COLUMNS " FROM execution_attempts";
#undef IOTBLOCKS_EXECUTION_COLUMNS
constexpr const char* erase_attempts_of_job_sql =
    "DELETE FROM execution_attempts WHERE job_id = ?1";
constexpr const char* erase_attempts_sql =
    "DELETE FROM execution_attempts WHERE thing = ?1 AND job_id = ?2";
constexpr const char* erase_job_sql = "DELETE FROM jobs WHERE id = ?1";
constexpr const char* upsert_template_sql =
    "INSERT OR REPLACE INTO job_templates(id, body) VALUES(?1, ?2)";
constexpr const char* erase_template_sql = "DELETE FROM job_templates WHERE id = ?1";
constexpr const char* erase_rollout_sql = "DELETE FROM rollout_targets WHERE job_id = ?1";
constexpr const char* insert_rollout_sql =  // after the job's last position
    "INSERT INTO rollout_targets(job_id, position, thing) VALUES(?1, (SELECT "
    "COALESCE(MAX(position), -1) + 1 FROM rollout_targets WHERE job_id = ?1), ?2)";
constexpr const char* erase_executions_sql = "DELETE FROM executions WHERE job_id = ?1";
constexpr const char* erase_execution_sql =
    "DELETE FROM executions WHERE thing = ?1 AND job_id = ?2";
constexpr const char* insert_announced_sql =  // a thing already owed keeps its first view
    "INSERT OR IGNORE INTO announced_pushes(thing, pending, next) VALUES(?1, ?2, ?3)";
constexpr const char* erase_announced_sql = "DELETE FROM announced_pushes WHERE thing = ?1";
constexpr const char* data_version_sql = "PRAGMA data_version";

// Columns added after the first release, for files written before them.
constexpr std::pair<const char*, const char*> added_columns[] = {
    {"jobs", "config TEXT NOT NULL DEFAULT '{}'"},
    {"executions", "retry_attempt INTEGER NOT NULL DEFAULT 0"}};

failure bad_row(std::string_view table, std::string_view key, std::string_view what) {
  return failure{
      error::invalid_request,
      "jobs store: " + std::string(table) + " row " + std::string(key) + ": " + std::string(what),
      {}};
}

std::size_t to_size(std::int64_t v) { return v < 0 ? 0 : static_cast<std::size_t>(v); }

/// Row of a SELECT of the execution columns into `e`; "" or what is wrong with it.
std::string read_execution(const sqlite::statement& st, execution& e) {
  e.thing = std::string(st.column_text(0));
  e.job_id = std::string(st.column_text(1));
  auto status = parse_execution_status(st.column_text(2));
  if (!status) return "unknown status";
  e.status = *status;
  if (!detail::read_details(st.column_text(3), e.details)) return "bad status_details";
  e.version = st.column_int64(4);
  e.execution_number = st.column_int64(5);
  e.sequence = static_cast<std::uint64_t>(st.column_int64(6));
  e.queued_at = st.column_int64(7);
  e.started_at = st.column_int64(8);
  e.last_updated_at = st.column_int64(9);
  e.in_progress_timeout_minutes = st.column_int64(10);
  e.in_progress_deadline = st.column_int64(11);
  e.step_deadline = st.column_int64(12);
  e.retry_attempt = st.column_int64(13);
  return {};
}

/// `e` bound to an INSERT of the execution columns.
void bind_execution(sqlite::statement& st, const execution& e, const std::string& details) {
  st.bind(1, std::string_view(e.thing))
      .bind(2, std::string_view(e.job_id))
      .bind(3, to_string(e.status))
      .bind(4, std::string_view(details))
      .bind(5, e.version)
      .bind(6, e.execution_number)
      .bind(7, static_cast<std::int64_t>(e.sequence))
      .bind(8, e.queued_at)
      .bind(9, e.started_at)
      .bind(10, e.last_updated_at)
      .bind(11, e.in_progress_timeout_minutes)
      .bind(12, e.in_progress_deadline)
      .bind(13, e.step_deadline)
      .bind(14, e.retry_attempt);
}

}  // namespace

// A batch waiting for its group's COMMIT.
struct pending_write {
  batch b;
  std::promise<std::error_code> done;
};

struct sqlite_store::impl {
  sqlite::database db;
  std::mutex write_mu;  // the connection and its statements
  std::mutex order_mu;  // applying to the copy and queueing happen in one order
  sqlite::statement upsert_job;
  sqlite::statement upsert_execution;
  sqlite::statement erase_job;
  sqlite::statement erase_executions;
  sqlite::statement erase_execution;
  sqlite::statement erase_rollout;
  sqlite::statement upsert_template;
  sqlite::statement erase_template;
  sqlite::statement insert_rollout;
  sqlite::statement upsert_attempt;
  sqlite::statement erase_attempts;
  sqlite::statement erase_attempts_of_job;
  sqlite::statement insert_announced;
  sqlite::statement erase_announced;
  sqlite::statement data_version;
  memory_store copy;
  /// PRAGMA data_version when the copy was read (write_mu): another connection's commit
  /// changes it, this connection's do not.
  std::int64_t synced_version = 0;
  std::atomic<std::size_t> in_flight{0};  // batches queued or being written
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> reloads{0};
  /// Last: commits what is queued before the rest goes.
  std::unique_ptr<core::group_commit<pending_write>> queue;

  explicit impl(sqlite::database d) : db(std::move(d)) {}

  /// data_version now (write_mu held).
  result<std::int64_t> version() {
    auto row = data_version.step();
    if (!row) {
      data_version.reset();
      return std::move(row).take_failure();
    }
    const std::int64_t v = data_version.column_int64(0);
    data_version.reset();
    return v;
  }

  /// Whether another connection committed since the copy was read.
  result<bool> file_changed() {
    std::lock_guard lock{write_mu};
    auto v = version();
    if (!v) return std::move(v).take_failure();
    return *v != synced_version;
  }

  /// The copy read again from the file, in one read transaction with its data_version.
  result<void> reload() {
    std::lock_guard lock{write_mu};
    if (auto r = db.exec("BEGIN"); !r) return r;
    batch b;
    auto v = version();
    auto r = v ? read(b) : result<void>{std::move(v).take_failure()};
    if (!r) {
      (void)db.exec("ROLLBACK");
      return r;
    }
    if (auto c = db.exec("COMMIT"); !c) return c;
    memory_store fresh;
    if (auto ec = fresh.commit(b)) return failure{ec, "jobs store: loading", {}};
    copy.replace_with(fresh);
    synced_version = *v;
    return {};
  }

  /// Every row of the file into `b`.
  result<void> read(batch& b) {
    auto jobs = db.prepare(
        "SELECT id, document, status, in_progress_timeout_minutes, force_canceled, created_at, "
        "last_updated_at, completed_at, open_executions, description, targets, continuous, "
        "config FROM jobs");
    if (!jobs) return std::move(jobs).take_failure();
    for (;;) {
      auto row = jobs->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      job j;
      j.id = std::string(jobs->column_text(0));
      j.document = std::string(jobs->column_text(1));
      auto status = parse_job_status(jobs->column_text(2));
      if (!status) return bad_row("jobs", j.id, "unknown status");
      j.status = *status;
      j.in_progress_timeout_minutes = jobs->column_int64(3);
      j.force_canceled = jobs->column_int64(4) != 0;
      j.created_at = jobs->column_int64(5);
      j.last_updated_at = jobs->column_int64(6);
      j.completed_at = jobs->column_int64(7);
      j.open_executions = to_size(jobs->column_int64(8));
      j.description = std::string(jobs->column_text(9));
      if (!detail::read_targets(jobs->column_text(10), j.targets)) {
        return bad_row("jobs", j.id, "bad targets");
      }
      j.continuous = jobs->column_int64(11) != 0;
      if (auto bad = detail::read_config(jobs->column_text(12), j); !bad.empty()) {
        return bad_row("jobs", j.id, bad);
      }
      b.jobs.push_back(std::move(j));
    }
    for (auto [sql, into] : {std::pair{select_executions_sql, &b.executions},
                             std::pair{select_attempts_sql, &b.attempts}}) {
      auto execs = db.prepare(sql);
      if (!execs) return std::move(execs).take_failure();
      for (;;) {
        auto row = execs->step();
        if (!row) return std::move(row).take_failure();
        if (!*row) break;
        execution e;
        if (auto bad = read_execution(*execs, e); !bad.empty()) {
          return bad_row(into == &b.executions ? "executions" : "execution_attempts",
                         e.thing + "/" + e.job_id, bad);
        }
        into->push_back(std::move(e));
      }
    }
    auto templates = db.prepare("SELECT id, body FROM job_templates");
    if (!templates) return std::move(templates).take_failure();
    for (;;) {
      auto row = templates->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      auto t = parse_job_template(templates->column_text(1));
      if (!t) return bad_row("job_templates", templates->column_text(0), t.fail().message);
      b.templates.push_back(std::move(*t));
    }
    auto rollouts =
        db.prepare("SELECT job_id, thing FROM rollout_targets ORDER BY job_id, position");
    if (!rollouts) return std::move(rollouts).take_failure();
    for (;;) {
      auto row = rollouts->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      const auto id = rollouts->column_text(0);
      if (b.rollouts.empty() || b.rollouts.back().first != id) {
        b.rollouts.emplace_back(std::string(id), std::vector<std::string>{});
      }
      b.rollouts.back().second.emplace_back(rollouts->column_text(1));
    }
    auto announced = db.prepare("SELECT thing, pending, next FROM announced_pushes");
    if (!announced) return std::move(announced).take_failure();
    for (;;) {
      auto row = announced->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      pending_view v;
      if (!detail::read_targets(announced->column_text(1), v.ids)) {
        return bad_row("announced_pushes", announced->column_text(0), "bad pending");
      }
      v.next = std::string(announced->column_text(2));
      b.announced.emplace_back(std::string(announced->column_text(0)), std::move(v));
    }
    return {};
  }

  // One transaction for every batch of a group, in order.
  result<void> write(const std::vector<pending_write>& group) {
    std::lock_guard lock{write_mu};
    sqlite::transaction tx{db};
    if (!tx.begun()) return tx.begun();
    // The copy these batches were applied to is the file at synced_version: a commit of
    // another connection since then means they were based on stale reads.
    auto v = version();
    if (!v) return std::move(v).take_failure();
    if (*v != synced_version) {
      return failure{error::store_changed, "jobs store: another process wrote to the file", {}};
    }
    for (const auto& p : group) {
      if (auto r = write_batch(p.b); !r) return r;
    }
    auto r = tx.commit();
    if (r) commits.fetch_add(1, std::memory_order_relaxed);
    return r;
  }

  result<void> write_batch(const batch& b) {
    auto run = [](sqlite::statement& st) {
      auto r = st.run();
      if (!r) st.reset();
      return r;
    };
    for (const auto& id : b.erased_jobs) {
      if (auto r = run(erase_job.bind(1, std::string_view(id))); !r) return r;
      if (auto r = run(erase_executions.bind(1, std::string_view(id))); !r) return r;
      if (auto r = run(erase_rollout.bind(1, std::string_view(id))); !r) return r;
      if (auto r = run(erase_attempts_of_job.bind(1, std::string_view(id))); !r) return r;
    }
    for (const auto& thing : b.erased_announced) {
      if (auto r = run(erase_announced.bind(1, std::string_view(thing))); !r) return r;
    }
    for (const auto& [thing, view] : b.announced) {
      insert_announced.bind(1, std::string_view(thing))
          .bind(2, std::string_view(detail::targets_json(view.ids)))
          .bind(3, std::string_view(view.next));
      if (auto r = run(insert_announced); !r) return r;
    }
    for (const auto& id : b.erased_templates) {
      if (auto r = run(erase_template.bind(1, std::string_view(id))); !r) return r;
    }
    for (const auto& t : b.templates) {
      const std::string body = to_json(t);
      upsert_template.bind(1, std::string_view(t.id)).bind(2, std::string_view(body));
      if (auto r = run(upsert_template); !r) return r;
    }
    for (const auto& [id, things] : b.rollouts) {
      for (const auto& thing : things) {
        insert_rollout.bind(1, std::string_view(id)).bind(2, std::string_view(thing));
        if (auto r = run(insert_rollout); !r) return r;
      }
    }
    for (const auto& [thing, job_id] : b.erased_executions) {
      erase_execution.bind(1, std::string_view(thing)).bind(2, std::string_view(job_id));
      if (auto r = run(erase_execution); !r) return r;
      erase_attempts.bind(1, std::string_view(thing)).bind(2, std::string_view(job_id));
      if (auto r = run(erase_attempts); !r) return r;
    }
    for (const auto& j : b.jobs) {
      upsert_job.bind(1, std::string_view(j.id))
          .bind(2, std::string_view(j.document))
          .bind(3, to_string(j.status))
          .bind(4, j.in_progress_timeout_minutes)
          .bind(5, j.force_canceled ? 1 : 0)
          .bind(6, j.created_at)
          .bind(7, j.last_updated_at)
          .bind(8, j.completed_at)
          .bind(9, static_cast<std::int64_t>(j.open_executions))
          .bind(10, std::string_view(j.description))
          .bind(11, std::string_view(detail::targets_json(j.targets)))
          .bind(12, j.continuous ? 1 : 0)
          .bind(13, std::string_view(detail::config_json(j)));
      if (auto r = run(upsert_job); !r) return r;
    }
    for (const auto& e : b.executions) {
      bind_execution(upsert_execution, e, detail::details_json(e.details));
      if (auto r = run(upsert_execution); !r) return r;
    }
    for (const auto& e : b.attempts) {
      bind_execution(upsert_attempt, e, detail::details_json(e.details));
      if (auto r = run(upsert_attempt); !r) return r;
    }
    return {};
  }

  // One group, on the queue's thread. After a failed transaction the copy ran ahead of the
  // file: load it again and fail every batch queued (they were applied on top).
  void commit(std::vector<pending_write>& group) {
    auto r = write(group);
    if (!r) {
      std::lock_guard lock{order_mu};
      for (auto& p : queue->take_all()) group.push_back(std::move(p));
      if (reload()) reloads.fetch_add(1, std::memory_order_relaxed);
    }
    in_flight.fetch_sub(group.size(), std::memory_order_release);
    const std::error_code ec = r ? std::error_code{} : r.fail().code;
    for (auto& p : group) p.done.set_value(ec);
  }
};

result<std::unique_ptr<sqlite_store>> sqlite_store::open(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  for (const auto& [table, column] : added_columns) {
    auto has = db->prepare("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2");
    if (!has) return std::move(has).take_failure();
    const std::string_view decl{column};
    has->bind(1, std::string_view{table}).bind(2, decl.substr(0, decl.find(' ')));
    auto row = has->step();
    if (!row) return std::move(row).take_failure();
    if (*row) continue;
    auto r = db->exec("ALTER TABLE " + std::string(table) + " ADD COLUMN " + std::string(decl));
    if (!r) return std::move(r).take_failure();
  }
  auto p = std::make_unique<impl>(std::move(*db));
  for (auto [sql, st] : {std::pair{upsert_job_sql, &p->upsert_job},
                         {upsert_execution_sql, &p->upsert_execution},
                         {erase_job_sql, &p->erase_job},
                         {erase_executions_sql, &p->erase_executions},
                         {erase_execution_sql, &p->erase_execution},
                         {erase_rollout_sql, &p->erase_rollout},
                         {insert_rollout_sql, &p->insert_rollout},
                         {upsert_template_sql, &p->upsert_template},
                         {erase_template_sql, &p->erase_template},
                         {upsert_attempt_sql, &p->upsert_attempt},
                         {erase_attempts_sql, &p->erase_attempts},
                         {erase_attempts_of_job_sql, &p->erase_attempts_of_job},
                         {insert_announced_sql, &p->insert_announced},
                         {erase_announced_sql, &p->erase_announced},
                         {data_version_sql, &p->data_version}}) {
    auto prepared = p->db.prepare(sql);
    if (!prepared) return std::move(prepared).take_failure();
    *st = std::move(*prepared);
  }
  if (auto r = p->reload(); !r) return std::move(r).take_failure();
  p->queue = std::make_unique<core::group_commit<pending_write>>(
      [raw = p.get()](std::vector<pending_write>& group) { raw->commit(group); });
  p->queue->start();
  return std::unique_ptr<sqlite_store>(new sqlite_store(std::move(p)));
}

sqlite_store::sqlite_store(std::unique_ptr<impl> p) : p_(std::move(p)) {}
sqlite_store::~sqlite_store() = default;

std::error_code sqlite_store::commit(const batch& b) { return commit_deferred(b).get(); }

std::future<std::error_code> sqlite_store::commit_deferred(const batch& b) {
  pending_write w{b, {}};
  auto done = w.done.get_future();
  if (b.empty()) {
    w.done.set_value({});
    return done;
  }
  std::lock_guard lock{p_->order_mu};
  (void)p_->copy.commit(b);  // a memory_store commit cannot fail
  p_->in_flight.fetch_add(1, std::memory_order_relaxed);
  p_->queue->push(std::move(w));
  return done;
}

bool sqlite_store::refresh() {
  std::lock_guard lock{p_->order_mu};  // nothing applied to the copy meanwhile
  if (p_->in_flight.load(std::memory_order_acquire) != 0) return false;
  auto changed = p_->file_changed();
  if (!changed || !*changed || !p_->reload()) return false;
  p_->reloads.fetch_add(1, std::memory_order_relaxed);
  return true;
}

std::vector<std::pair<std::string, pending_view>> sqlite_store::announced() const {
  return p_->copy.announced();
}
std::vector<execution> sqlite_store::attempts(std::string_view thing,
                                              std::string_view job_id) const {
  return p_->copy.attempts(thing, job_id);
}
std::uint64_t sqlite_store::reloads() const noexcept {
  return p_->reloads.load(std::memory_order_relaxed);
}

std::optional<job> sqlite_store::find_job(std::string_view id) const {
  return p_->copy.find_job(id);
}
std::optional<std::string> sqlite_store::find_document(std::string_view id) const {
  return p_->copy.find_document(id);
}
std::optional<execution> sqlite_store::find_execution(std::string_view thing,
                                                      std::string_view job_id) const {
  return p_->copy.find_execution(thing, job_id);
}
std::vector<execution> sqlite_store::pending(std::string_view thing) const {
  return p_->copy.pending(thing);
}
std::vector<execution> sqlite_store::executions_of(std::string_view job_id) const {
  return p_->copy.executions_of(job_id);
}
std::vector<execution> sqlite_store::executions_for(std::string_view thing) const {
  return p_->copy.executions_for(thing);
}
std::vector<execution> sqlite_store::due(std::int64_t now) const { return p_->copy.due(now); }
std::uint64_t sqlite_store::last_sequence() const { return p_->copy.last_sequence(); }
std::vector<std::string> sqlite_store::job_ids() const { return p_->copy.job_ids(); }
std::vector<std::string> sqlite_store::rollout_targets(std::string_view job_id, std::size_t from,
                                                       std::size_t count) const {
  return p_->copy.rollout_targets(job_id, from, count);
}
std::vector<std::string> sqlite_store::rolling_out() const { return p_->copy.rolling_out(); }
std::vector<std::string> sqlite_store::scheduled() const { return p_->copy.scheduled(); }
std::optional<job_template> sqlite_store::find_template(std::string_view id) const {
  return p_->copy.find_template(id);
}
std::vector<std::string> sqlite_store::template_ids() const { return p_->copy.template_ids(); }
std::size_t sqlite_store::size() const { return p_->copy.size(); }
std::uint64_t sqlite_store::commits() const noexcept {
  return p_->commits.load(std::memory_order_relaxed);
}

}  // namespace iotblocks::jobs
