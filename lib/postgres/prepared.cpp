#include "postgres/prepared.hpp"

#include <iotblocks/postgres/error.hpp>

#include <string>
#include <vector>

namespace iotblocks::postgres::detail {
namespace {

failure refused(const PGresult* r, PGconn* c) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string text = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return {error::statement_failed, std::string(state ? state : "08000") + ": " + text, {}};
}

bool ok(const rows& r) {
  const auto s = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  return s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK;
}

}  // namespace

result<rows> prepared::exec(connection& c, const char* name, const char* sql,
                            std::initializer_list<param> params) {
  PGconn* pg = c.native();
  if (const int backend = PQbackendPID(pg); backend != backend_) {
    names_.clear();  // a new server process knows none of them
    backend_ = backend;
  }
  if (!names_.contains(name)) {
    rows p{PQprepare(pg, name, sql, static_cast<int>(params.size()), nullptr)};
    if (!ok(p)) return refused(p.get(), pg);
    names_.emplace(name);
  }
  std::vector<std::string> values;  // libpq wants NUL-terminated text
  std::vector<const char*> pointers;
  values.reserve(params.size());
  for (const auto& v : params) {
    values.emplace_back(v ? *v : std::string_view{});
    pointers.push_back(v ? values.back().c_str() : nullptr);
  }
  rows r{PQexecPrepared(pg, name, static_cast<int>(pointers.size()), pointers.data(), nullptr,
                        nullptr, 0)};
  if (ok(r)) return r;
  return refused(r.get(), pg);
}

std::string_view sqlstate(const failure& f) noexcept {
  const std::string_view m = f.message;
  if (f.code != make_error_code(error::statement_failed) || m.size() < 6 || m[5] != ':') return {};
  return m.substr(0, 5);
}

bool retryable(const failure& f) noexcept {
  const auto state = sqlstate(f);
  return state == "40P01" || state == "40001";
}

}  // namespace iotblocks::postgres::detail
