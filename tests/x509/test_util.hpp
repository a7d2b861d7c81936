// Helpers shared by the x509 and registry tests: files and throwaway PKIs.
#pragma once

#include <iotblocks/x509.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace iotblocks::x509::test {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  return {std::istreambuf_iterator<char>(in), {}};
}

inline distinguished_name cn(const std::string& name) { return {{{"CN", name}}}; }

/// A certificate with its key.
struct issued {
  certificate cert;
  private_key key;
};

inline issued make_ca(const std::string& name, key_algorithm alg = key_algorithm::p256,
                      const issued* parent = nullptr, certificate_request req = {}) {
  auto key = private_key::generate(alg).value();
  req.subject = req.subject.entries.empty() ? cn(name) : req.subject;
  req.ca = true;
  auto cert =
      issue(req, key, parent ? &parent->cert : nullptr, parent ? &parent->key : nullptr).value();
  return {std::move(cert), std::move(key)};
}

inline issued make_leaf(const std::string& name, const issued& parent,
                        key_algorithm alg = key_algorithm::p256, certificate_request req = {}) {
  auto key = private_key::generate(alg).value();
  req.subject = req.subject.entries.empty() ? cn(name) : req.subject;
  auto cert = issue(req, key, &parent.cert, &parent.key).value();
  return {std::move(cert), std::move(key)};
}

}  // namespace iotblocks::x509::test
