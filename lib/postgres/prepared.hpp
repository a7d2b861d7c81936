// Private: named prepared statements on one connection, prepared on first use (parsed and
// planned once by the server) and again after begin() replaced a dropped connection.
#pragma once

#include "postgres/connection.hpp"

#include <set>
#include <string>

namespace iotblocks::postgres::detail {

/// Distinct objects: safe. Shared objects: unsafe.
class prepared {
 public:
  /// Runs statement `name` (`sql`, prepared under that name on first use).
  /// Failure: error::statement_failed with "SQLSTATE: message".
  result<rows> exec(connection& c, const char* name, const char* sql,
                    std::initializer_list<param> params = {});

 private:
  int backend_ = 0;  ///< the server process the names were prepared on
  std::set<std::string, std::less<>> names_;
};

/// The SQLSTATE of a failure of connection::exec or prepared::exec ("" when none).
std::string_view sqlstate(const failure& f) noexcept;

/// The server aborted the transaction to break a deadlock (40P01) or a serialization
/// conflict (40001): running it again is correct.
bool retryable(const failure& f) noexcept;

}  // namespace iotblocks::postgres::detail
