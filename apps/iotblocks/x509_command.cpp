// `iotblocks x509 …`: test CAs and certificates, inspection and verification.
//   make-ca   --out ca [--cn NAME] [--key p256|rsa2048|…] [--days N] [--ca P.pem --ca-key P.key]
//   make-cert --ca ca.pem --ca-key ca.key --out dev [--cn NAME] [--client-auth] [--dns NAME]…
//   show      cert.pem                    (fields of each certificate, JSON)
//   verify    chain.pem --trust ca.pem…   [--host H] [--purpose client|server] [--crl F]
//             [--profile aws|strict]
// The registry subcommands (registration-code, register-ca, authenticate, …)
// are added by registry_x509_command.cpp when the registry is in the build.
#include "command.hpp"

#include <iotblocks/x509.hpp>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fmt/format.h>

#include <fstream>
#include <string>
#include <vector>

namespace iotblocks::cli {
namespace {
namespace IOTBLOCKS_CLI_UNIT {

using writer = rapidjson::Writer<rapidjson::StringBuffer>;

void put(writer& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
}

void put_name(writer& w, const x509::distinguished_name& n) {
  w.StartObject();
  for (const auto& e : n.entries) {
    w.Key(e.type.c_str());
    put(w, e.value);
  }
  w.EndObject();
}

void put_certificate(writer& w, const x509::certificate& c) {
  w.StartObject();
  w.Key("id");
  put(w, c.id());
  w.Key("subject");
  put_name(w, c.subject());
  w.Key("issuer");
  put_name(w, c.issuer());
  w.Key("serial");
  put(w, c.serial());
  w.Key("notBefore");
  w.Int64(to_unix_ms(c.not_before()));
  w.Key("notAfter");
  w.Int64(to_unix_ms(c.not_after()));
  w.Key("key");
  put(w, fmt::format("{}-{}", x509::to_string(c.public_key_type()), c.public_key_bits()));
  w.Key("ca");
  w.Bool(c.is_ca());
  const auto& san = c.subject_alt_names();
  w.Key("subjectAltNames");
  w.StartObject();
  for (auto [name, list] : {std::pair{"dns", &san.dns}, std::pair{"email", &san.email},
                            std::pair{"uri", &san.uri}, std::pair{"ip", &san.ip}}) {
    if (list->empty()) continue;
    w.Key(name);
    w.StartArray();
    for (const auto& v : *list) put(w, v);
    w.EndArray();
  }
  w.EndObject();
  w.EndObject();
}

template <class T>
T must(result<T> r, int code, std::string_view what) {
  if (!r) throw error(code, fmt::format("{}: {}", what, r.describe()));
  return std::move(r).value();
}
void must(result<void> r, int code, std::string_view what) {
  if (!r) throw error(code, fmt::format("{}: {}", what, r.describe()));
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out || !(out << text)) throw error(failed, "cannot write '" + path + "'");
}

struct issue_args {
  std::string out;
  std::string cn;
  std::string key = "p256";
  int days = 365;
  std::string ca;
  std::string ca_key;
  int path_len = -1;
  bool client_auth = false;
  bool server_auth = false;
  std::vector<std::string> dns;
};

void run_issue(const issue_args& a, bool ca) {
  auto alg = must(x509::parse_key_algorithm(a.key), usage, "--key");
  std::optional<x509::certificate> parent;
  std::optional<x509::private_key> parent_key;
  if (!a.ca.empty()) {
    parent = must(x509::certificate::from_pem(read_input(a.ca)), bad_input, a.ca);
    parent_key = must(x509::private_key::from_pem(read_input(a.ca_key)), bad_input, a.ca_key);
  } else if (!ca) {
    throw error(usage, "make-cert needs --ca and --ca-key");
  }
  auto key = must(x509::private_key::generate(alg), failed, "key generation");
  x509::certificate_request req{.subject = {{{"CN", a.cn}}},
                                .days = a.days,
                                .ca = ca,
                                .client_auth = a.client_auth,
                                .server_auth = a.server_auth,
                                .dns_names = a.dns};
  if (ca && a.path_len >= 0) req.path_length = a.path_len;
  auto cert =
      must(x509::issue(req, key, parent ? &*parent : nullptr, parent_key ? &*parent_key : nullptr),
           failed, "issue");
  write_file(a.out + ".pem", cert.pem());
  write_file(a.out + ".key", key.pem());
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  w.Key("certificate");
  put(w, a.out + ".pem");
  w.Key("privateKey");
  put(w, a.out + ".key");
  w.Key("details");
  put_certificate(w, cert);
  w.EndObject();
  print_line(buf.GetString());
}

void add_issue_options(CLI::App* cmd, issue_args& a, bool ca) {
  cmd->add_option("--out", a.out, "Writes OUT.pem and OUT.key")->required();
  cmd->add_option("--cn", a.cn, "Subject common name (a verification certificate: the code)")
      ->required(!ca);
  cmd->add_option("--key", a.key, "rsa2048, rsa3072, p256, p384 or ed25519")->capture_default_str();
  cmd->add_option("--days", a.days, "Validity in days")->capture_default_str();
  cmd->add_option("--ca", a.ca,
                  ca ? "Issuing CA certificate (default: self-signed)" : "Issuing CA certificate")
      ->required(!ca);
  cmd->add_option("--ca-key", a.ca_key, "Issuing CA private key")->required(!ca);
  if (ca) {
    cmd->add_option("--path-len", a.path_len, "pathLenConstraint");
  } else {
    cmd->add_flag("--client-auth", a.client_auth, "Extended key usage clientAuth (devices)");
    cmd->add_flag("--server-auth", a.server_auth, "Extended key usage serverAuth");
    cmd->add_option("--dns", a.dns, "DNS subject alternative name (repeatable)");
  }
}

struct verify_args {
  std::string chain;
  std::vector<std::string> trust;
  std::vector<std::string> crls;
  std::string host;
  std::string purpose = "any";
  std::string profile = "aws";
  std::int64_t at_ms = -1;
};

void run_verify(const verify_args& a) {
  x509::verifier v;
  for (const auto& path : a.trust) {
    for (const auto& c : must(x509::parse_chain(read_input(path)), bad_input, path)) {
      must(v.add_trusted(c), bad_input, path);
    }
  }
  for (const auto& path : a.crls) {
    must(v.add_crl(must(x509::crl::from_pem(read_input(path)), bad_input, path)), bad_input, path);
  }
  const std::string text = read_input(a.chain);
  auto chain = must(x509::parse_chain(text), bad_input, a.chain.empty() ? "-" : a.chain);
  const auto profile = x509::parse_profile(a.profile);
  if (!profile) throw error(usage, "--profile: aws or strict");
  x509::verify_options o{.profile = *profile, .host = a.host};
  if (a.purpose == "client")
    o.purpose = x509::purpose::tls_client;
  else if (a.purpose == "server")
    o.purpose = x509::purpose::tls_server;
  else if (a.purpose != "any")
    throw error(usage, "--purpose: any, client or server");
  if (a.at_ms >= 0) o.at = from_unix_ms(a.at_ms);
  auto r = v.verify(chain, o);
  rapidjson::StringBuffer buf;
  writer w(buf);
  w.StartObject();
  w.Key("valid");
  w.Bool(r.ok());
  w.Key("certificateId");
  put(w, chain.front().id());
  w.Key("profile");
  put(w, x509::to_string(o.profile));
  if (r) {
    w.Key("anchor");
    put(w, r->anchor.id());
    w.Key("length");
    w.Uint64(r->length);
  } else {
    w.Key("error");
    put(w, r.error().message());
    w.Key("message");
    put(w, r.fail().message);
  }
  w.EndObject();
  print_line(buf.GetString());
  if (!r) throw error(no_result, "chain does not verify: " + std::string{r.fail().message.view()});
}

void setup(CLI::App& root) {
  auto* x509 = root.add_subcommand("x509", "X.509 certificates, CAs and the certificate registry");
  x509->require_subcommand(1);

  static issue_args ca_args, cert_args;
  auto* make_ca = x509->add_subcommand("make-ca", "Create a CA certificate and key (test CAs)");
  ca_args.cn = "iotblocks test CA";
  add_issue_options(make_ca, ca_args, true);
  make_ca->callback([] { run_issue(ca_args, true); });

  auto* make_cert = x509->add_subcommand(
      "make-cert", "Create a certificate signed by a CA (device or verification certificate)");
  add_issue_options(make_cert, cert_args, false);
  make_cert->callback([] { run_issue(cert_args, false); });

  static std::string show_path;
  auto* show = x509->add_subcommand("show", "Print the fields of each certificate as JSON");
  show->add_option("file", show_path, "PEM or DER file (default: standard input)");
  show->callback([] {
    const std::string text = read_input(show_path);
    for (const auto& c : must(x509::parse_chain(text), bad_input, show_path)) {
      rapidjson::StringBuffer buf;
      writer w(buf);
      put_certificate(w, c);
      print_line(buf.GetString());
    }
  });

  static verify_args va;
  auto* verify = x509->add_subcommand("verify", "Verify a chain (leaf first) against trusted CAs");
  verify->add_option("chain", va.chain, "PEM or DER chain file (default: standard input)");
  verify->add_option("--trust", va.trust, "Trusted CA certificates (repeatable)")->required();
  verify->add_option("--crl", va.crls, "CRL in PEM (repeatable)");
  verify->add_option("--host", va.host, "Required DNS name");
  verify->add_option("--purpose", va.purpose, "any, client or server")->capture_default_str();
  verify->add_option("--at", va.at_ms, "Verification time in Unix milliseconds");
  verify
      ->add_option("--profile", va.profile, "aws (what AWS IoT Core accepts) or strict (RFC 5280)")
      ->capture_default_str();
  verify->callback([] { run_verify(va); });
}

const registrar reg{50, &setup};

}  // namespace IOTBLOCKS_CLI_UNIT
}  // namespace
}  // namespace iotblocks::cli
