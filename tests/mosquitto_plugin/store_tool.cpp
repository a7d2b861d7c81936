// Test helper: changes the registry and policy store files through the libraries, as the
// gateway or an operator's program would while mosquitto runs with the plugin.
//
//   store_tool registration-code registry.db
//   store_tool register-ca registry.db ca.pem verification.pem [auto]
//   store_tool register-cert registry.db device.pem ACTIVE
//   store_tool update-cert registry.db <certificate id> REVOKED
//   store_tool describe-cert registry.db <certificate id>     (prints the status)
//   store_tool attach-thing registry.db <thing> <certificate id>   (creates the thing)
//   store_tool create-policy policies.db <name> policy.json
//   store_tool attach-policy policies.db <name> <principal>
#include <iotblocks/policy/store.hpp>
#include <iotblocks/registry/registry.hpp>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace iotblocks;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <class R>
int report(const R& r) {
  if (r) return 0;
  std::cerr << "store_tool: " << r.describe() << "\n";
  return 1;
}

int run(const std::vector<std::string>& a) {
  if (a.size() < 3) return 2;
  const auto& cmd = a[1];
  if (cmd == "create-policy" || cmd == "attach-policy") {
    auto store = policy::store::open(a[2]);
    if (!store) return report(store);
    if (cmd == "create-policy" && a.size() == 5) {
      return report(store->create_policy(a[3], read_file(a[4])));
    }
    if (cmd == "attach-policy" && a.size() == 5) return report(store->attach_policy(a[3], a[4]));
    return 2;
  }
  auto reg = registry::registry::open(a[2]);
  if (!reg) return report(reg);
  if (cmd == "registration-code") {
    auto code = reg->registration_code();
    if (code) std::cout << *code << "\n";
    return report(code);
  }
  if (cmd == "register-ca" && a.size() >= 5) {
    const bool autoreg = a.size() == 6 && a[5] == "auto";
    auto id = reg->register_ca(read_file(a[3]), read_file(a[4]),
                               {.active = true, .auto_registration = autoreg});
    if (id) std::cout << *id << "\n";
    return report(id);
  }
  if (cmd == "register-cert" && a.size() == 5) {
    auto status = registry::parse_certificate_status(a[4]);
    if (!status) return report(status);
    auto id = reg->register_certificate(read_file(a[3]), *status);
    if (id) std::cout << *id << "\n";
    return report(id);
  }
  if (cmd == "update-cert" && a.size() == 5) {
    auto status = registry::parse_certificate_status(a[4]);
    if (!status) return report(status);
    return report(reg->update_certificate(a[3], *status));
  }
  if (cmd == "describe-cert" && a.size() == 4) {
    auto rec = reg->describe_certificate(a[3]);
    if (rec) std::cout << registry::to_string((*rec)->status) << "\n";
    return report(rec);
  }
  if (cmd == "attach-thing" && a.size() == 5) {
    if (!reg->describe_thing(a[3])) {
      if (auto made = reg->create_thing({.name = a[3]}); !made) return report(made);
    }
    return report(reg->attach_thing(a[3], a[4]));
  }
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  const int rc = run(std::vector<std::string>(argv, argv + argc));
  if (rc == 2) std::cerr << "store_tool: bad arguments (see the comment in store_tool.cpp)\n";
  return rc;
}
