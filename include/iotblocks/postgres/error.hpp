// Errors of the postgres component: the connection, a statement the server refused
// (the failure's message carries SQLSTATE and the server's text), the schema.
#pragma once

#include <iotblocks/core/export.hpp>

#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::postgres {

enum class error {
  connection_failed = 1,  ///< no connection to the server (URL, network, authentication)
  statement_failed,       ///< the server refused a statement
  schema_too_new,         ///< the database was migrated by a newer iotblocks
};

const std::error_category& error_category() noexcept;

inline std::error_code make_error_code(error e) noexcept {
  return {static_cast<int>(e), error_category()};
}

}  // namespace iotblocks::postgres

template <>
struct std::is_error_code_enum<iotblocks::postgres::error> : std::true_type {};

IOTBLOCKS_API_END
