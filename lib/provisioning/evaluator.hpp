// Private: the template functions. An evaluator turns a template expression (a JSON value
// that may hold Ref, Fn::… and Condition) into a value, within the limits given; failures
// name the path of the expression in the template.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/provisioning/template.hpp>

#include <rapidjson/document.h>

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace iotblocks::provisioning::detail {

/// An evaluated expression.
struct value {
  enum class kind { none, string, list, object, boolean };
  kind k = kind::none;            ///< none: AWS::NoValue or JSON null (dropped by the caller)
  std::string text;               ///< string
  std::vector<value> items;       ///< list elements, or object member values
  std::vector<std::string> keys;  ///< object member names (parallel to items)
  bool flag = false;              ///< boolean (conditions)
};

/// Evaluates expressions of one template with one set of parameters.
/// Distinct objects: safe. Shared objects: unsafe.
class evaluator {
 public:
  /// `parameters`: the resolved parameter values (declared ones with defaults applied,
  /// and the pseudo parameters); `lists`: those of Type CommaDelimitedList.
  evaluator(const rapidjson::Value& root, const std::map<std::string, std::string>& parameters,
            const std::set<std::string>& lists, const limits& l) noexcept;

  /// Evaluates `v`, found at `path` in the template.
  result<value> eval(const rapidjson::Value& v, const std::string& path);
  /// Evaluates the condition `name` of the Conditions section (cached), referred to at `path`.
  result<bool> condition(std::string_view name, const std::string& path);

 private:
  result<value> function(std::string_view fn, const rapidjson::Value& arg, const std::string& path);
  result<value> ref(const rapidjson::Value& arg, const std::string& path);
  result<value> join(const rapidjson::Value& arg, const std::string& path);
  result<value> select(const rapidjson::Value& arg, const std::string& path);
  result<value> split(const rapidjson::Value& arg, const std::string& path);
  result<value> find_in_map(const rapidjson::Value& arg, const std::string& path);
  result<value> sub(const rapidjson::Value& arg, const std::string& path);
  result<value> if_(const rapidjson::Value& arg, const std::string& path);
  result<value> logic(std::string_view fn, const rapidjson::Value& arg, const std::string& path);
  result<value> string_of(const rapidjson::Value& v, const std::string& path, const char* what);
  result<bool> boolean_of(const rapidjson::Value& v, const std::string& path);
  /// Counts `n` more bytes of output; fails past limits::max_output.
  bool spend(std::size_t n) noexcept;
  failure budget_failure(const std::string& path) const;

  const rapidjson::Value& root_;
  const std::map<std::string, std::string>& parameters_;
  const std::set<std::string>& lists_;
  const limits& limits_;
  std::size_t spent_ = 0;
  unsigned depth_ = 0;  ///< condition references being followed
  std::map<std::string, bool, std::less<>> conditions_;
  std::set<std::string, std::less<>> visiting_;
};

/// A failure of the template at `path`: "path: message".
failure template_failure(const std::string& path, std::string_view message);

/// `path` + "." + `key`.
std::string child(const std::string& path, std::string_view key);
/// `path` + "[" + `i` + "]".
std::string element(const std::string& path, std::size_t i);

}  // namespace iotblocks::provisioning::detail
