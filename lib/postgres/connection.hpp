// One libpq connection: statements with text parameters, failures that carry the
// server's SQLSTATE and message, transactions, and schema versions per component.
#pragma once

#include <iotblocks/core/result.hpp>

#include <libpq-fe.h>

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::postgres::detail {

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};
using rows = std::unique_ptr<PGresult, result_deleter>;

/// A text parameter; nullopt is SQL NULL.
using param = std::optional<std::string_view>;

class connection {
 public:
  /// `url`: a libpq connection URI (postgresql://user@host:port/db?…) or key=value string.
  static result<connection> open(const std::string& url);

  /// Runs one statement. Failure: error::statement_failed with "SQLSTATE: message".
  result<rows> exec(const char* sql, std::initializer_list<param> params = {});
  /// exec for statements without rows.
  result<void> run(const char* sql, std::initializer_list<param> params = {});
  /// BEGIN, after replacing a connection the server or network dropped.
  result<void> begin();

  /// The schema version of `component` (0: none), under a lock that serialises every
  /// process migrating this database until commit() or rollback(); begins a transaction.
  result<int> lock_schema(std::string_view component);
  result<void> set_schema(std::string_view component, int version);

  PGconn* native() const noexcept { return c_.get(); }

 private:
  struct closer {
    void operator()(PGconn* c) const noexcept { PQfinish(c); }
  };
  explicit connection(PGconn* c) : c_(c) {}
  std::unique_ptr<PGconn, closer> c_;
};

/// "text" of column `col` of row `row` (empty for NULL).
inline std::string_view text(const rows& r, int row, int col) {
  return {PQgetvalue(r.get(), row, col), static_cast<std::size_t>(PQgetlength(r.get(), row, col))};
}

}  // namespace iotblocks::postgres::detail
