// AWS managed job templates (AWS-Reboot, AWS-Download-File, …) and the
// `${aws:iot:parameter:<key>}` substitution that turns one into a job document with
// CreateJob's documentParameters. Pure functions, no I/O.
//
//   const auto* t = iotblocks::jobs::find_managed_template("AWS-Download-File", "1.0");
//   auto doc = iotblocks::jobs::document_from_template(
//       *t, {{"downloadUrl", "https://example.com/fw.bin"}, {"filePath", "/tmp/fw.bin"}});
//   // doc.value(): the template's document, placeholders replaced (runAsUser and
//   // pathToHandler, optional and not given, by "")
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/jobs/model.hpp>

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::jobs {

/// One of DescribeManagedJobTemplate's documentParameters.
struct document_parameter {
  std::string_view key;
  std::string_view description;
  std::string_view regex;  ///< the whole value must match (ECMAScript, over bytes)
  std::string_view example;
  bool optional = false;
};

/// An AWS managed job template (DescribeManagedJobTemplate).
struct managed_template {
  std::string_view name;     ///< "AWS-Reboot"
  std::string_view version;  ///< "1.0"
  std::string_view description;
  std::span<const std::string_view> environments;  ///< {"LINUX"}
  std::span<const document_parameter> parameters;
  std::string_view document;  ///< compact JSON with ${aws:iot:parameter:<key>} placeholders
};

/// Every managed template, sorted by name then version.
std::span<const managed_template> managed_templates() noexcept;
/// The template `name` in `version` (empty: the default, newest version), or nullptr.
const managed_template* find_managed_template(std::string_view name,
                                              std::string_view version = {}) noexcept;

/// AWS's limits on a documentParameters entry.
inline constexpr std::size_t max_parameter_key = 128;    ///< 1..128 of [a-zA-Z0-9_-]
inline constexpr std::size_t max_parameter_value = 512;  ///< 1..512, no control characters

/// Replaces every `${aws:iot:parameter:<key>}` in the JSON `document` by `values[key]`,
/// escaped for a JSON string; the result must still be a JSON object (compact).
/// Errors (invalid_request, with the position in `document`): a placeholder without its
/// closing brace or with a key not 1..128 of [a-zA-Z0-9_-], a key without a value, a
/// document that is not a JSON object before or after.
result<std::string> substitute_parameters(std::string_view document, const parameter_map& values);

/// `values` checked against `t`'s parameters (no unknown key; every required one given;
/// each value 1..512 characters without control characters matching its regex) and then
/// substituted into `t.document`, optional parameters not given replaced by "".
/// Errors: invalid_request naming the parameter.
result<std::string> document_from_template(const managed_template& t, const parameter_map& values);

/// Job `j`'s document before substitution (GetJobDocument `beforeSubstitution`): for a job
/// made from a managed template (job::template_id "<name>:<version>"), that template's
/// document with its `${aws:iot:parameter:<key>}` placeholders; else the job's document.
std::string document_before_substitution(const job& j);

}  // namespace iotblocks::jobs

IOTBLOCKS_API_END
