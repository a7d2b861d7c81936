#include <iotblocks/registry/error.hpp>
#include <iotblocks/registry/status.hpp>

#include <fmt/format.h>

namespace iotblocks::registry {
namespace {

constexpr std::string_view certificate_status_names[] = {"ACTIVE", "INACTIVE", "REVOKED",
                                                         "PENDING_ACTIVATION", "PENDING_TRANSFER"};
constexpr std::string_view ca_status_names[] = {"ACTIVE", "INACTIVE"};

}  // namespace

std::string_view to_string(certificate_status s) noexcept {
  return certificate_status_names[static_cast<int>(s)];
}

result<certificate_status> parse_certificate_status(std::string_view text) {
  for (int i = 0; i < 5; ++i) {
    if (certificate_status_names[i] == text) return static_cast<certificate_status>(i);
  }
  return failure{error::invalid_status,
                 fmt::format("unknown certificate status '{}'", text.substr(0, 64)),
                 {}};
}

std::string_view to_string(ca_status s) noexcept { return ca_status_names[static_cast<int>(s)]; }

result<ca_status> parse_ca_status(std::string_view text) {
  if (text == "ACTIVE") return ca_status::active;
  if (text == "INACTIVE") return ca_status::inactive;
  return failure{
      error::invalid_status, fmt::format("unknown CA status '{}'", text.substr(0, 64)), {}};
}

}  // namespace iotblocks::registry
