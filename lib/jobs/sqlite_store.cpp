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
)sql";

constexpr const char* upsert_job_sql =
    "INSERT OR REPLACE INTO jobs(id, document, status, in_progress_timeout_minutes, "
    "force_canceled, created_at, last_updated_at, completed_at, open_executions, description, "
    "targets, continuous, config) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
constexpr const char* upsert_execution_sql =
    "INSERT OR REPLACE INTO executions(thing, job_id, status, status_details, version, "
    "execution_number, sequence, queued_at, started_at, last_updated_at, "
    "in_progress_timeout_minutes, in_progress_deadline, step_deadline, retry_attempt) "
    "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)";
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
  memory_store copy;
  std::atomic<std::uint64_t> commits{0};
  /// Last: commits what is queued before the rest goes.
  std::unique_ptr<core::group_commit<pending_write>> queue;

  explicit impl(sqlite::database d) : db(std::move(d)) {}

  result<void> load() {
    auto jobs = db.prepare(
        "SELECT id, document, status, in_progress_timeout_minutes, force_canceled, created_at, "
        "last_updated_at, completed_at, open_executions, description, targets, continuous, "
        "config FROM jobs");
    if (!jobs) return std::move(jobs).take_failure();
    batch b;
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
    auto execs = db.prepare(
        "SELECT thing, job_id, status, status_details, version, execution_number, sequence, "
        "queued_at, started_at, last_updated_at, in_progress_timeout_minutes, "
        "in_progress_deadline, step_deadline, retry_attempt FROM executions");
    if (!execs) return std::move(execs).take_failure();
    for (;;) {
      auto row = execs->step();
      if (!row) return std::move(row).take_failure();
      if (!*row) break;
      execution e;
      e.thing = std::string(execs->column_text(0));
      e.job_id = std::string(execs->column_text(1));
      const std::string key = e.thing + "/" + e.job_id;
      auto status = parse_execution_status(execs->column_text(2));
      if (!status) return bad_row("executions", key, "unknown status");
      e.status = *status;
      if (!detail::read_details(execs->column_text(3), e.details)) {
        return bad_row("executions", key, "bad status_details");
      }
      e.version = execs->column_int64(4);
      e.execution_number = execs->column_int64(5);
      e.sequence = static_cast<std::uint64_t>(execs->column_int64(6));
      e.queued_at = execs->column_int64(7);
      e.started_at = execs->column_int64(8);
      e.last_updated_at = execs->column_int64(9);
      e.in_progress_timeout_minutes = execs->column_int64(10);
      e.in_progress_deadline = execs->column_int64(11);
      e.step_deadline = execs->column_int64(12);
      e.retry_attempt = execs->column_int64(13);
      b.executions.push_back(std::move(e));
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
    if (auto ec = copy.commit(b)) return failure{ec, "jobs store: loading", {}};
    return {};
  }

  // One transaction for every batch of a group, in order.
  result<void> write(const std::vector<pending_write>& group) {
    std::lock_guard lock{write_mu};
    sqlite::transaction tx{db};
    if (!tx.begun()) return tx.begun();
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
      const std::string details = detail::details_json(e.details);
      upsert_execution.bind(1, std::string_view(e.thing))
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
      if (auto r = run(upsert_execution); !r) return r;
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
      batch all;
      all.erased_jobs = copy.job_ids();
      all.erased_templates = copy.template_ids();
      (void)copy.commit(all);
      (void)load();
    }
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
                         {erase_template_sql, &p->erase_template}}) {
    auto prepared = p->db.prepare(sql);
    if (!prepared) return std::move(prepared).take_failure();
    *st = std::move(*prepared);
  }
  if (auto r = p->load(); !r) return std::move(r).take_failure();
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
  p_->queue->push(std::move(w));
  return done;
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
