// Private: policy variables and condition keys: parsing a name such as
// "iot:Certificate.Subject.Organization.List" once, resolving it against a
// context at evaluation time without allocating.
#pragma once

#include <iotblocks/policy/context.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::policy::detail {

enum class var_kind : std::uint8_t {
  client_id,
  thing_name,
  thing_type_name,
  thing_attribute,
  thing_is_attached,
  subject,
  issuer,
  subject_alt,
  issuer_alt,
  serial_number,
  certificate_id,
  source_ip,
  domain_name,
  cognito_sub,
  cognito_aud,
  cognito_amr,
  extra,  // any other key, looked up in context::extra
};

struct var_ref {
  var_kind kind = var_kind::extra;
  std::uint8_t field = 0;    // dn_attribute or alt_name_type
  std::uint8_t index = 0;    // value index of a multi-valued certificate attribute
  bool indexed = false;      // the name ended in ".<index>"
  bool list = false;         // ".List": every value
  std::string name;          // thing attribute name (case kept) or lowercase extra key
  bool has_default = false;  // ${key, 'default'}
  std::string default_value;
};

/// Certificate attributes: AWS IoT looks at the first five values only and
/// does not substitute a value longer than 1024 characters or containing one of
/// the wildcard characters its guide lists ("X.509 Certificate policy variable
/// limitations"): such a variable does not resolve.
inline constexpr std::size_t max_certificate_values = 5;
inline constexpr std::size_t max_certificate_value_length = 1024;
inline constexpr std::string_view certificate_wildcards = "*$+?#";

/// Parses a variable or condition-key name (case-insensitive). `known` is set
/// false for a name under iot:Connection.Thing. / iot:Certificate. /
/// cognito-identity.amazonaws.com: that AWS does not define (it is then an
/// `extra` key). nullopt: malformed.
std::optional<var_ref> parse_var(std::string_view name, bool& known);

/// The values of a variable in a context: none (not present), one, or several.
class values {
 public:
  values() = default;
  explicit values(std::string_view one) : one_(one), count_(1) {}
  values(const std::string* many, std::size_t n) : many_(many), count_(n) {}

  bool present() const noexcept { return count_ > 0 || present_empty_; }
  std::size_t size() const noexcept { return count_; }
  std::string_view operator[](std::size_t i) const noexcept {
    return many_ != nullptr ? std::string_view{many_[i]} : one_;
  }
  static values empty_list() noexcept {
    values v;
    v.present_empty_ = true;
    return v;
  }

 private:
  const std::string* many_ = nullptr;
  std::string_view one_;
  std::size_t count_ = 0;
  bool present_empty_ = false;
};

/// Resolves `v` in `ctx`. A single-valued use (Resource text, plain conditions)
/// takes values()[0]; `.List` yields all values.
values resolve(const var_ref& v, const context& ctx) noexcept;

/// Resolves to exactly one string for substitution into a Resource or a
/// condition value; nullopt when not present (or, for a certificate variable,
/// not substituted, see above). Condition keys use resolve(): their values are
/// compared, not substituted, and are seen as they are.
std::optional<std::string_view> resolve_one(const var_ref& v, const context& ctx) noexcept;

/// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b) noexcept;

}  // namespace iotblocks::policy::detail
