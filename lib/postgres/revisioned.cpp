#include "postgres/revisioned.hpp"

#include <iotblocks/postgres/error.hpp>

#include <charconv>
#include <optional>

namespace iotblocks::postgres::detail {
namespace {

std::optional<std::int64_t> revision_of(const rows& r) {
  if (PQntuples(r.get()) != 1) return std::nullopt;
  const std::string_view s = text(r, 0, 0);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size()) return std::nullopt;
  return v;
}

failure no_revision(const std::string& table) {
  return {error::statement_failed, "XX000: no revision row in " + table, {}};
}

}  // namespace

revisioned::revisioned(connection c, std::string table)
    : c_(std::move(c)),
      table_(std::move(table)),
      bump_sql_("UPDATE " + table_ + " SET revision = revision + 1 RETURNING revision"),
      revision_sql_("SELECT revision FROM " + table_),
      lock_sql_(revision_sql_ + " FOR UPDATE"),
      bump_name_(table_ + "_bump"),
      revision_name_(table_ + "_read"),
      lock_name_(table_ + "_lock") {}

result<void> revisioned::create_table() {
  const std::string create = "CREATE TABLE " + table_ +
                             "(one boolean PRIMARY KEY DEFAULT true CHECK(one), "
                             "revision bigint NOT NULL)";
  if (auto r = c_.run(create.c_str()); !r) return r;
  const std::string first = "INSERT INTO " + table_ + " VALUES(true, 0)";
  return c_.run(first.c_str());
}

failure revisioned::rollback(failure f) {
  (void)c_.run("ROLLBACK");
  return f;
}

result<void> revisioned::begin_read() {
  if (auto r = c_.begin(); !r) return r;
  if (auto r = c_.run("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"); !r) {
    return rollback(r.fail());
  }
  auto rev = exec(revision_name_.c_str(), revision_sql_.c_str());
  if (!rev) return rollback(rev.fail());
  const auto v = revision_of(*rev);
  if (!v) return rollback(no_revision(table_));
  snapshot_ = *v;
  return {};
}

result<void> revisioned::commit_write() {
  auto rev = exec(bump_name_.c_str(), bump_sql_.c_str());
  if (!rev) return rollback(rev.fail());
  const auto v = revision_of(*rev);
  if (!v) return rollback(no_revision(table_));
  if (auto r = c_.run("COMMIT"); !r) return r;
  if (*v == known_ + 1) known_ = *v;  // nobody else wrote since our last look
  return {};
}

result<void> revisioned::begin_batch() {
  if (auto r = c_.begin(); !r) return r;
  batch_ = true;
  batch_writes_ = false;
  return {};
}

result<void> revisioned::commit_batch() {
  batch_ = false;
  if (!batch_writes_) return c_.run("ROLLBACK");  // nothing written: nothing to announce
  return commit_write();
}

void revisioned::rollback_batch() {
  batch_ = false;
  (void)c_.run("ROLLBACK");
}

result<bool> revisioned::lock_current() {
  auto rev = exec(lock_name_.c_str(), lock_sql_.c_str());
  if (!rev) return std::move(rev).take_failure();
  const auto v = revision_of(*rev);
  if (!v) return no_revision(table_);
  return batch_ || *v == known_;
}

result<bool> revisioned::changed_elsewhere() {
  if (batch_) return false;
  auto rev = exec(revision_name_.c_str(), revision_sql_.c_str());
  if (!rev) {
    // begin() replaces a connection the server or the network dropped: look once more.
    if (auto r = c_.begin(); !r) return std::move(r).take_failure();
    rev = exec(revision_name_.c_str(), revision_sql_.c_str());
    (void)c_.run("ROLLBACK");
    if (!rev) return std::move(rev).take_failure();
  }
  const auto v = revision_of(*rev);
  if (!v) return no_revision(table_);
  if (*v == known_) return false;
  known_ = *v;
  return true;
}

}  // namespace iotblocks::postgres::detail
