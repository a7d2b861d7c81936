// Shared fixture of the registry tests: a scratch directory, a manual clock
// and helpers that build a CA and register it the bring-your-own-CA way.
#pragma once

#include <iotblocks/registry.hpp>

#include "x509/test_util.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

namespace iotblocks::registry::test {

using x509::test::issued;

class RegistryTest : public ::testing::Test {
 protected:
  RegistryTest() : clock_(std::chrono::system_clock::now()) {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           (std::string("iotblocks-registry-") + info->test_suite_name() + "-" + info->name() +
            "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  ~RegistryTest() override { std::filesystem::remove_all(dir_); }

  std::string path() const { return (dir_ / "registry.db").string(); }

  registry open(options o = {}) {
    o.clock = &clock_;
    return registry::open(path(), std::move(o)).value();
  }

  issued make_ca(const std::string& name, x509::key_algorithm alg = x509::key_algorithm::p256,
                 const issued* parent = nullptr) {
    return x509::test::make_ca(name, alg, parent, {.clock = &clock_});
  }
  issued make_device(const std::string& name, const issued& ca,
                     x509::key_algorithm alg = x509::key_algorithm::p256) {
    return x509::test::make_leaf(name, ca, alg, {.client_auth = true, .clock = &clock_});
  }
  /// The verification certificate: CN = the registration code, signed by the CA key.
  issued make_verification(registry& reg, const issued& ca) {
    return x509::test::make_leaf(reg.registration_code().value(), ca, x509::key_algorithm::p256,
                                 {.clock = &clock_});
  }
  std::string register_ca(registry& reg, const issued& ca, ca_registration flags = {}) {
    return reg.register_ca(ca.cert.pem(), make_verification(reg, ca).cert.pem(), flags).value();
  }

  static std::vector<bytes_view> chain(std::initializer_list<const issued*> certs) {
    std::vector<bytes_view> out;
    for (const auto* c : certs) out.push_back(c->cert.der());
    return out;
  }

  manual_clock clock_;
  std::filesystem::path dir_;
};

}  // namespace iotblocks::registry::test
