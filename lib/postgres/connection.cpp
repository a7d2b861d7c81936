#include "postgres/connection.hpp"

#include <iotblocks/postgres/error.hpp>

#include <string>
#include <vector>

namespace iotblocks::postgres::detail {
namespace {

failure statement_failure(const PGresult* r, PGconn* c) {
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  std::string text = r ? PQresultErrorMessage(r) : PQerrorMessage(c);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return {error::statement_failed, std::string(state ? state : "08000") + ": " + text, {}};
}

}  // namespace

result<connection> connection::open(const std::string& url) {
  PGconn* c = PQconnectdb(url.c_str());
  if (c == nullptr) return failure{error::connection_failed, "out of memory", {}};
  connection conn{c};
  if (PQstatus(c) != CONNECTION_OK) {
    std::string why = PQerrorMessage(c);
    while (!why.empty() && why.back() == '\n') why.pop_back();
    return failure{error::connection_failed, why, {}};
  }
  return conn;
}

result<rows> connection::exec(const char* sql, std::initializer_list<param> params) {
  std::vector<std::string> values;  // libpq wants NUL-terminated text
  std::vector<const char*> pointers;
  values.reserve(params.size());
  for (const auto& p : params) {
    values.emplace_back(p ? *p : std::string_view{});
    pointers.push_back(p ? values.back().c_str() : nullptr);
  }
  rows r{PQexecParams(c_.get(), sql, static_cast<int>(pointers.size()), nullptr, pointers.data(),
                      nullptr, nullptr, 0)};
  const auto status = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return r;
  return statement_failure(r.get(), c_.get());
}

result<void> connection::begin() {
  // Only here, before a transaction, may a lost connection be replaced: inside one,
  // a new connection would run the rest of it without the locks taken so far.
  if (PQstatus(c_.get()) == CONNECTION_BAD) {
    PQreset(c_.get());
    if (PQstatus(c_.get()) != CONNECTION_OK) {
      std::string why = PQerrorMessage(c_.get());
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return failure{error::connection_failed, why, {}};
    }
  }
  return run("BEGIN");
}

result<void> connection::run(const char* sql, std::initializer_list<param> params) {
  auto r = exec(sql, params);
  if (!r) return std::move(r).take_failure();
  return {};
}

result<int> connection::lock_schema(std::string_view component) {
  if (auto r = begin(); !r) return r.fail();
  for (const char* sql : {
           "SELECT pg_advisory_xact_lock(7301291020)",  // any constant shared by all processes
           "CREATE TABLE IF NOT EXISTS iotblocks_schema("
           "component text PRIMARY KEY, version integer NOT NULL)",
       }) {
    if (auto r = run(sql); !r) return r.fail();
  }
  auto r = exec("SELECT version FROM iotblocks_schema WHERE component = $1", {component});
  if (!r) return std::move(r).take_failure();
  if (PQntuples(r->get()) == 0) return 0;
  return std::stoi(std::string(text(*r, 0, 0)));
}

result<void> connection::set_schema(std::string_view component, int version) {
  const std::string v = std::to_string(version);
  return run(
      "INSERT INTO iotblocks_schema(component, version) VALUES($1, $2) "
      "ON CONFLICT(component) DO UPDATE SET version = excluded.version",
      {component, v});
}

}  // namespace iotblocks::postgres::detail
