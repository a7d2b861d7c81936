// `iotblocks x509 …` registry subcommands (the registry lives in --data DIR,
// default ./iotblocks-data, file registry.db):
//   registration-code [--delete]
//   register-ca --ca ca.pem --verification v.pem [--active] [--auto-registration]
//   update-ca --id ID [--status ACTIVE|INACTIVE] [--auto-registration ENABLE|DISABLE]
//   register-cert --cert dev.pem [--ca ca.pem] [--status ACTIVE|INACTIVE|REVOKED]
//   update-cert --id ID --status ACTIVE|INACTIVE|REVOKED
//   list [--ca ID]
//   authenticate chain.pem        (exit 0 accepted, 1 rejected; a JITR event is printed)
#include "command.hpp"

#include <iotblocks/registry.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

std::string data_dir = "iotblocks-data";
std::string profile_name = "aws";

void put(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
}

template <class T>
T must(result<T> r, int code, std::string_view what) {
  if (!r) throw error(code, fmt::format("{}: {}", what, r.describe()));
  return std::move(r).value();
}
void must(result<void> r, int code, std::string_view what) {
  if (!r) throw error(code, fmt::format("{}: {}", what, r.describe()));
}

// Rejections of management calls are the caller's input (3); the store failing is 4.
int code_of(std::error_code ec) { return ec == registry::error::storage ? failed : bad_input; }

registry::registry open_registry() {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) throw error(failed, fmt::format("cannot create '{}': {}", data_dir, ec.message()));
  const auto profile = x509::parse_profile(profile_name);
  if (!profile) throw error(usage, "--profile: aws or strict");
  registry::options o;
  o.verify.profile = *profile;
  auto r = registry::registry::open((std::filesystem::path(data_dir) / "registry.db").string(),
                                    std::move(o));
  if (!r) throw error(failed, r.describe());
  return std::move(r).value();
}

void print_object(const std::function<void(writer&)>& body) {
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  body(w);
  w.EndObject();
  print_line(buf.GetString());
}

void add_data(CLI::App* cmd) {
  cmd->add_option("--data", data_dir, "Directory of the registry (file registry.db)")
      ->capture_default_str();
  cmd->add_option("--profile", profile_name,
                  "Certificate verification: aws (what AWS IoT Core accepts) or strict (RFC 5280)")
      ->capture_default_str();
}

void put_ca(writer& w, const registry::ca_record& ca) {
  w.StartObject();
  w.Key("certificateId");
  put(w, ca.id());
  w.Key("subject");
  put(w, ca.certificate.subject().to_string());
  w.Key("status");
  put(w, to_string(ca.status));
  w.Key("autoRegistrationStatus");
  put(w, ca.auto_registration ? "ENABLE" : "DISABLE");
  w.Key("creationDate");
  w.Int64(ca.registered_ms);
  w.EndObject();
}

void put_cert(writer& w, const registry::certificate_record& c) {
  w.StartObject();
  w.Key("certificateId");
  put(w, c.id());
  w.Key("caCertificateId");
  put(w, c.ca_id);
  w.Key("subject");
  put(w, c.certificate.subject().to_string());
  w.Key("status");
  put(w, to_string(c.status));
  w.Key("creationDate");
  w.Int64(c.registered_ms);
  w.Key("things");
  w.StartArray();
  for (const auto& t : c.things) put(w, t.name);
  w.EndArray();
  w.EndObject();
}

struct args {
  bool del = false;
  std::string ca, verification, cert, id, status, auto_registration;
  bool active = false, auto_flag = false;
  std::string chain;
};
args a;

void setup(CLI::App& root) {
  CLI::App* x509 = nullptr;
  try {
    x509 = root.get_subcommand("x509");
  } catch (const CLI::OptionNotFound&) {
    return;  // x509 commands not in this build
  }

  auto* code =
      x509->add_subcommand("registration-code", "Print (or --delete) the registration code");
  code->add_flag("--delete", a.del, "Forget the code; the next call makes a new one");
  add_data(code);
  code->callback([] {
    auto reg = open_registry();
    if (a.del) {
      must(reg.delete_registration_code(), failed, "registration-code");
      print_object([](writer& w) { w.Key("deleted"), w.Bool(true); });
      return;
    }
    const std::string value = must(reg.registration_code(), failed, "registration-code");
    print_object([&](writer& w) { w.Key("registrationCode"), put(w, value); });
  });

  auto* reg_ca =
      x509->add_subcommand("register-ca", "Register a CA with its verification certificate");
  reg_ca->add_option("--ca", a.ca, "CA certificate (PEM)")->required();
  reg_ca->add_option("--verification", a.verification, "Verification certificate (PEM)")
      ->required();
  reg_ca->add_flag("--active", a.active, "Register ACTIVE (default INACTIVE)");
  reg_ca->add_flag("--auto-registration", a.auto_flag, "Register device certificates just in time");
  add_data(reg_ca);
  reg_ca->callback([] {
    auto reg = open_registry();
    auto r = reg.register_ca(read_input(a.ca), read_input(a.verification),
                             {.active = a.active, .auto_registration = a.auto_flag});
    if (!r) throw error(code_of(r.error()), "register-ca: " + r.describe());
    print_object([&](writer& w) { w.Key("certificateId"), put(w, *r); });
  });

  auto* upd_ca = x509->add_subcommand("update-ca", "Change a CA's status or auto-registration");
  upd_ca->add_option("--id", a.id, "CA certificate id")->required();
  upd_ca->add_option("--status", a.status, "ACTIVE or INACTIVE");
  upd_ca->add_option("--auto-registration", a.auto_registration, "ENABLE or DISABLE");
  add_data(upd_ca);
  upd_ca->callback([] {
    std::optional<registry::ca_status> status;
    if (!a.status.empty()) status = must(registry::parse_ca_status(a.status), usage, "--status");
    std::optional<bool> auto_reg;
    if (a.auto_registration == "ENABLE")
      auto_reg = true;
    else if (a.auto_registration == "DISABLE")
      auto_reg = false;
    else if (!a.auto_registration.empty())
      throw error(usage, "--auto-registration: ENABLE or DISABLE");
    auto reg = open_registry();
    if (auto r = reg.update_ca(a.id, status, auto_reg); !r) {
      throw error(code_of(r.error()), "update-ca: " + r.describe());
    }
    const auto ca = must(reg.describe_ca(a.id), failed, "update-ca");
    rapidjson::StringBuffer buf;
    writer w(buf);
    put_ca(w, ca);
    print_line(buf.GetString());
  });

  auto* reg_cert = x509->add_subcommand("register-cert", "Register a device certificate");
  reg_cert->add_option("--cert", a.cert, "Device certificate (PEM)")->required();
  reg_cert->add_option("--ca", a.ca, "Its CA certificate (PEM), if several share a subject");
  reg_cert->add_option("--status", a.status, "ACTIVE, INACTIVE (default) or REVOKED");
  add_data(reg_cert);
  reg_cert->callback([] {
    const auto status = a.status.empty()
                            ? registry::certificate_status::inactive
                            : must(registry::parse_certificate_status(a.status), usage, "--status");
    auto reg = open_registry();
    const std::string ca_pem = a.ca.empty() ? std::string{} : read_input(a.ca);
    auto r = reg.register_certificate(read_input(a.cert), status, ca_pem);
    if (!r) throw error(code_of(r.error()), "register-cert: " + r.describe());
    print_object([&](writer& w) { w.Key("certificateId"), put(w, *r); });
  });

  auto* upd_cert = x509->add_subcommand("update-cert", "Set a device certificate's status");
  upd_cert->add_option("--id", a.id, "Certificate id")->required();
  upd_cert->add_option("--status", a.status, "ACTIVE, INACTIVE or REVOKED")->required();
  add_data(upd_cert);
  upd_cert->callback([] {
    const auto status = must(registry::parse_certificate_status(a.status), usage, "--status");
    auto reg = open_registry();
    if (auto r = reg.update_certificate(a.id, status); !r) {
      throw error(code_of(r.error()), "update-cert: " + r.describe());
    }
    rapidjson::StringBuffer buf;
    writer w(buf);
    put_cert(w, *reg.find_certificate(a.id));
    print_line(buf.GetString());
  });

  auto* list = x509->add_subcommand("list", "List CAs and device certificates as JSON");
  list->add_option("--ca", a.id, "Only the certificates of this CA, oldest first");
  add_data(list);
  list->callback([] {
    auto reg = open_registry();
    print_object([&](writer& w) {
      if (a.id.empty()) {
        w.Key("caCertificates");
        w.StartArray();
        for (const auto& ca : reg.list_cas()) put_ca(w, ca);
        w.EndArray();
      }
      w.Key("certificates");
      w.StartArray();
      for (const auto& c :
           a.id.empty() ? reg.list_certificates() : reg.list_certificates_by_ca(a.id)) {
        put_cert(w, *c);
      }
      w.EndArray();
    });
  });

  auto* auth = x509->add_subcommand(
      "authenticate", "Authenticate a presented chain (leaf first) as the gateway would");
  auth->add_option("chain", a.chain, "PEM or DER chain (default: standard input)");
  add_data(auth);
  auth->callback([] {
    const std::string text = read_input(a.chain);
    auto chain = must(x509::parse_chain(text), bad_input, a.chain.empty() ? "-" : a.chain);
    auto reg = open_registry();
    const auto r = reg.authenticate(chain);
    print_object([&](writer& w) {
      w.Key("accepted");
      w.Bool(r.accepted());
      w.Key("certificateId");
      put(w, chain.front().id());
      if (r.principal) {
        w.Key("status");
        put(w, to_string(r.principal->status));
        w.Key("things");
        w.StartArray();
        for (const auto& t : r.principal->things) put(w, t.name);
        w.EndArray();
      }
      if (!r.accepted()) {
        w.Key("reason");
        put(w, r.reason.message());
        w.Key("message");
        put(w, r.message);
      }
      if (r.event) {
        w.Key("event");
        w.StartObject();
        w.Key("topic");
        put(w, r.event->topic);
        w.Key("payload");
        w.RawValue(r.event->payload.data(), r.event->payload.size(), rapidjson::kObjectType);
        w.EndObject();
      }
    });
    if (!r.accepted()) throw error(no_result, "rejected: " + r.message);
  });
}

const registrar reg{60, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
