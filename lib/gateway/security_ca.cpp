// The gateway's device CA (kept in data_dir) and device certificates it issues.
#include <iotblocks/core/error.hpp>

#include "gateway/security.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace iotblocks::gateway {
namespace detail {
namespace {

result<std::string> read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return failure{core::error::io_error, "cannot read " + p.string(), {}};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

result<void> write_file(const std::filesystem::path& p, std::string_view text, bool secret) {
  const auto tmp = p.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return failure{core::error::io_error, "cannot write " + tmp, {}};
    if (secret) ::chmod(tmp.c_str(), 0600);
    out << text;
    out.flush();
    if (!out) return failure{core::error::io_error, "cannot write " + tmp, {}};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, p, ec);
  if (ec) return failure{ec, "cannot write " + p.string() + ": " + ec.message(), {}};
  return {};
}

}  // namespace

result<device_ca> device_ca::load_or_create(const std::filesystem::path& dir) {
  const auto cert_path = dir / "device-ca.pem";
  const auto key_path = dir / "device-ca.key";
  if (std::filesystem::exists(cert_path) && std::filesystem::exists(key_path)) {
    auto cert_pem = read_file(cert_path);
    if (!cert_pem) return std::move(cert_pem).take_failure();
    auto key_pem = read_file(key_path);
    if (!key_pem) return std::move(key_pem).take_failure();
    auto cert = x509::certificate::from_pem(*cert_pem);
    if (!cert) return failure{cert.error(), cert_path.string() + ": " + cert.describe(), {}};
    auto key = x509::private_key::from_pem(*key_pem);
    if (!key) return failure{key.error(), key_path.string() + ": " + key.describe(), {}};
    if (!key->matches(*cert)) {
      return failure{core::error::invalid_argument,
                     key_path.string() + " does not match " + cert_path.string(),
                     {}};
    }
    return device_ca{std::move(*cert), std::move(*key)};
  }
  auto key = x509::private_key::generate(x509::key_algorithm::p256);
  if (!key) return std::move(key).take_failure();
  x509::certificate_request req;
  req.subject.entries = {{"O", "iotblocks"}, {"CN", "iotblocks gateway device CA"}};
  req.ca = true;
  req.path_length = 0;
  req.days = 3650;
  auto cert = x509::issue(req, *key);
  if (!cert) return std::move(cert).take_failure();
  if (auto ok = write_file(key_path, key->pem(), true); !ok) return std::move(ok).take_failure();
  if (auto ok = write_file(cert_path, cert->pem(), false); !ok) {
    return std::move(ok).take_failure();
  }
  return device_ca{std::move(*cert), std::move(*key)};
}

}  // namespace detail

result<std::pair<x509::certificate, x509::private_key>> security::issue_device(
    std::string_view thing, x509::key_algorithm algorithm) {
  auto key = x509::private_key::generate(algorithm);
  if (!key) return std::move(key).take_failure();
  x509::certificate_request req;
  req.subject.entries = {{"O", "iotblocks"}, {"CN", std::string(thing)}};
  req.client_auth = true;
  req.days = 365;
  auto cert = x509::issue(req, *key, &ca_->certificate, &ca_->key);
  if (!cert) return std::move(cert).take_failure();
  return std::pair{std::move(*cert), std::move(*key)};
}

}  // namespace iotblocks::gateway
