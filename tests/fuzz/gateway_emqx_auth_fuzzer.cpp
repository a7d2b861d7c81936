// The EMQX HTTP authenticator and authorizer request bodies (lib/gateway/emqx_auth.hpp) on
// hostile input: either parsed, with the required fields present and the values in range,
// or refused with a message. Never crashes.
#include "gateway/emqx_auth.hpp"

#include <iotblocks/topic/syntax.hpp>

#include <cstdlib>
#include <string_view>

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iotblocks::gateway;
  const std::string_view in{reinterpret_cast<const char*>(data), size};
  if (auto a = emqx::parse_authn(in)) {
    require(!a->clientid.empty() && a->clientid.size() <= emqx::max_field_size);
    require(a->password.size() <= emqx::max_field_size);
  } else {
    require(!a.describe().empty());
  }
  if (auto z = emqx::parse_authz(in)) {
    require(!z->clientid.empty() && z->qos >= 0 && z->qos <= 2);
    require(z->act == emqx::action::publish ? !iotblocks::topic::validate_name(z->topic)
                                            : !iotblocks::topic::validate_filter(z->topic));
  } else {
    require(!z.describe().empty());
  }
  return 0;
}
