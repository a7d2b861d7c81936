// The registration hook for functions that AWS implements by calling other
// services (aws_lambda, get_thing_shadow, get_dynamodb, get_secret,
// machinelearning_predict, get_registry_data, and decode(v, 'proto', ...) which reads
// Protobuf descriptors from S3) and for an application's own functions. A rule that
// calls an unregistered name does not compile.
//
//   sql::function_registry fns;
//   fns.add("get_thing_shadow", 2, 3, [&](std::span<const sql::value> args, const sql::message&)
//             -> iotblocks::result<sql::value> { return shadows.document(args[0]); });
//   auto rule = sql::compile(text, sql::compile_options{}.functions(&fns));
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/sql/message.hpp>
#include <iotblocks/sql/value.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::sql {

/// A registered function: arguments in, a value out. A failure makes the evaluation
/// fail with error::external_failed (AWS runs the rule's error action then); return
/// an Undefined value instead to mean "no value". It may be called from every thread
/// that evaluates a rule using it.
using external_function =
    std::function<result<value>(std::span<const value> args, const message& msg)>;

/// Named functions; names are case-insensitive like the built-ins.
/// Distinct objects: safe. Shared objects: safe for reading (compile); unsafe while adding.
class function_registry {
 public:
  struct entry {
    std::string name;
    std::size_t min_args = 0;
    std::size_t max_args = 0;
    external_function fn;
  };

  /// Adds or replaces `name`. A registered name shadows a built-in of the same name for
  /// the argument counts it takes; calls with a count only the built-in takes stay
  /// built-in (registering `decode` for 6 arguments adds AWS's `decode(v, 'proto', ...)`
  /// and keeps `decode(v, 'base64')`).
  function_registry& add(std::string name, std::size_t min_args, std::size_t max_args,
                         external_function fn);

  /// The entry for `name` (case-insensitive), or nullptr. The pointer is shared by
  /// compiled rules, which keep it alive.
  std::shared_ptr<const entry> find(std::string_view name) const;

  std::vector<std::string> names() const;

 private:
  std::vector<std::shared_ptr<const entry>> entries_;
};

/// The AWS IoT SQL functions that call other AWS services and therefore need a registration.
std::span<const std::string_view> external_function_names() noexcept;

}  // namespace iotblocks::sql

IOTBLOCKS_API_END
