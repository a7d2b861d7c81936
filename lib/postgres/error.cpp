#include <iotblocks/core/error.hpp>
#include <iotblocks/postgres/error.hpp>

namespace iotblocks::postgres {
namespace {

const char* message(int ev) noexcept {
  switch (static_cast<error>(ev)) {
    case error::connection_failed: return "cannot connect to PostgreSQL";
    case error::statement_failed: return "PostgreSQL refused a statement";
    case error::schema_too_new: return "the database schema is newer than this build";
  }
  return "unknown iotblocks.postgres error";
}

}  // namespace

const std::error_category& error_category() noexcept {
  return iotblocks::detail::lasting_category<&message>("iotblocks.postgres");
}

}  // namespace iotblocks::postgres
