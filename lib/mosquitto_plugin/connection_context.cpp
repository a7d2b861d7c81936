#include "mosquitto_plugin/connection_context.hpp"

#include <iotblocks/core/clock.hpp>

#include <string>

namespace iotblocks::mosquitto_plugin {
namespace {

void add_names(policy::distinguished_name& out, const x509::distinguished_name& dn) {
  for (const auto& e : dn.entries) {
    if (auto a = policy::find_dn_attribute(e.type)) out.add(*a, e.value);
  }
}

}  // namespace

policy::context connection_context(const plugin_options& o, std::string_view client_id,
                                   std::string_view address) {
  policy::context ctx;
  ctx.region = o.region;
  ctx.account = o.account_id;
  ctx.any_account = o.any_account;
  ctx.client_id = std::string(client_id);
  if (!address.empty()) ctx.source_ip = std::string(address);
  ctx.thing_is_attached = false;
  return ctx;
}

policy::context connection_context(const plugin_options& o, std::string_view client_id,
                                   std::string_view address, const x509::certificate& leaf,
                                   const registry::certificate_record* record) {
  auto ctx = connection_context(o, client_id, address);
  add_names(ctx.subject, leaf.subject());
  add_names(ctx.issuer, leaf.issuer());
  const auto& san = leaf.subject_alt_names();
  using t = policy::alt_name_type;
  for (const auto& v : san.dns) ctx.subject.add(t::dns_name, v);
  for (const auto& v : san.email) ctx.subject.add(t::rfc822_name, v);
  for (const auto& v : san.uri) ctx.subject.add(t::uniform_resource_identifier, v);
  for (const auto& v : san.ip) ctx.subject.add(t::ip_address, v);
  for (const auto& v : san.directory) ctx.subject.add(t::directory_name, v);
  ctx.serial_number = leaf.serial();
  ctx.certificate_id = leaf.id();
  ctx.extra.push_back(
      {"iot:Certificate.Validity.NotBefore", {std::to_string(to_unix_ms(leaf.not_before()))}});
  ctx.extra.push_back(
      {"iot:Certificate.Validity.NotAfter", {std::to_string(to_unix_ms(leaf.not_after()))}});
  ctx.thing_is_attached = false;
  if (record == nullptr) return ctx;
  for (const auto& thing : record->things) {
    if (thing.name != client_id) continue;
    ctx.thing_name = thing.name;
    if (!thing.type.empty()) ctx.thing_type_name = thing.type;
    for (const auto& [k, v] : thing.attributes) ctx.thing_attributes.emplace_back(k, v);
    ctx.thing_is_attached = true;
  }
  return ctx;
}

}  // namespace iotblocks::mosquitto_plugin
