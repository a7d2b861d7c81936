// postgres::jobs_changes: LISTEN iotblocks_jobs on a connection of its own, and a session
// advisory lock keyed by hashtext(lease) as the publishing lease.
#include <iotblocks/postgres/error.hpp>
#include <iotblocks/postgres/jobs_changes.hpp>

#include "postgres/connection.hpp"

#include <algorithm>
#include <optional>
#include <string_view>

namespace iotblocks::postgres {

struct jobs_changes::impl {
  std::string url;
  std::string lease;
  std::optional<detail::connection> conn;
  bool leading = false;
};

jobs_changes::jobs_changes(std::unique_ptr<impl> p) : p_(std::move(p)) {}
jobs_changes::~jobs_changes() = default;

result<std::unique_ptr<jobs_changes>> jobs_changes::open(const std::string& url,
                                                         const std::string& lease) {
  auto p = std::make_unique<impl>();
  p->url = url;
  p->lease = "iotblocks_jobs/" + lease;
  std::unique_ptr<jobs_changes> c(new jobs_changes(std::move(p)));
  if (auto r = c->reconnect(); !r) return std::move(r).take_failure();
  return c;
}

result<void> jobs_changes::reconnect() {
  p_->leading = false;
  p_->conn.reset();
  auto c = detail::connection::open(p_->url);
  if (!c) return std::move(c).take_failure();
  if (auto r = c->run("LISTEN iotblocks_jobs"); !r) return r;
  p_->conn = std::move(*c);
  return {};
}

int jobs_changes::socket() const noexcept { return p_->conn ? PQsocket(p_->conn->native()) : -1; }

bool jobs_changes::leading() const noexcept { return p_->leading; }

result<std::vector<std::string>> jobs_changes::take() {
  if (!p_->conn) return failure{error::connection_failed, "not connected", {}};
  PGconn* c = p_->conn->native();
  if (PQconsumeInput(c) == 0 || PQstatus(c) != CONNECTION_OK) {
    p_->leading = false;
    return failure{error::connection_failed, PQerrorMessage(c), {}};
  }
  std::vector<std::string> out;
  while (PGnotify* n = PQnotifies(c)) {
    std::string_view payload{n->extra};
    while (!payload.empty()) {
      const auto end = std::min(payload.find('\n'), payload.size());
      out.emplace_back(payload.substr(0, end));
      payload.remove_prefix(std::min(end + 1, payload.size()));
    }
    PQfreemem(n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

result<bool> jobs_changes::try_lead() {
  if (!p_->conn) return failure{error::connection_failed, "not connected", {}};
  if (p_->leading) return true;  // a session lock is held until the connection ends
  auto r = p_->conn->exec("SELECT pg_try_advisory_lock(hashtext($1))", {p_->lease});
  if (!r) {
    if (PQstatus(p_->conn->native()) != CONNECTION_OK) {
      return failure{error::connection_failed, r.fail().message, {}};
    }
    return std::move(r).take_failure();
  }
  p_->leading = detail::text(*r, 0, 0) == "t";
  return p_->leading;
}

}  // namespace iotblocks::postgres
