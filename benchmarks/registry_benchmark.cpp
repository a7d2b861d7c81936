// Registry hot paths.
//
//   BM_AuthenticateKnownDevice/<alg>   authenticate() of registered ACTIVE devices presenting
//                                      the chain they presented before (cached verification)
//   BM_AuthenticateUncached/<alg>      the same with the cache off: X509_verify_cert each time
//   BM_FindCertificate/<n>             find_certificate(id) cycling over n registered certificates
//
// alg: 0 = RSA-2048, 1 = P-256. The store lives in /dev/shm when available.
//
//   benchmarks/peers/x509.sh build/bench-x509   (repetitions, interleaving, ratios)
#include <iotblocks/registry.hpp>
#include <iotblocks/x509.hpp>

#include <benchmark/benchmark.h>

#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <vector>

namespace {

using namespace iotblocks;

std::filesystem::path scratch() {
  const std::filesystem::path base =
      std::filesystem::exists("/dev/shm") ? "/dev/shm" : std::filesystem::temp_directory_path();
  auto dir = base / ("iotblocks-registry-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

struct population {
  std::unique_ptr<registry::registry> reg;
  std::vector<std::vector<bytes_view>> chains;  // leaf, CA
  std::vector<std::string> ids;
  std::vector<x509::certificate> keep;
};

// A registry with one ACTIVE CA and `devices` ACTIVE device certificates.
population populate(int alg_index, std::size_t devices, std::size_t cache_capacity) {
  static int serial = 0;
  const auto alg = alg_index == 0 ? x509::key_algorithm::rsa_2048 : x509::key_algorithm::p256;
  const auto path = scratch() / ("registry-" + std::to_string(serial++) + ".db");
  std::filesystem::remove(path);
  population p;
  p.reg = std::make_unique<registry::registry>(
      registry::registry::open(path.string(), {.cache_capacity = cache_capacity}).value());
  auto ca_key = x509::private_key::generate(alg).value();
  auto ca = x509::issue({.subject = {{{"CN", "bench CA"}}}, .ca = true}, ca_key).value();
  auto v_key = x509::private_key::generate(x509::key_algorithm::p256).value();
  auto v =
      x509::issue({.subject = {{{"CN", p.reg->registration_code().value()}}}}, v_key, &ca, &ca_key)
          .value();
  p.reg->register_ca(ca.pem(), v.pem(), {.active = true}).value();
  p.keep.push_back(ca);
  // One device key for all certificates keeps the setup fast; ids differ by serial and CN.
  auto device_key = x509::private_key::generate(alg).value();
  for (std::size_t i = 0; i < devices; ++i) {
    auto cert =
        x509::issue({.subject = {{{"CN", "device-" + std::to_string(i)}}}, .client_auth = true},
                    device_key, &ca, &ca_key)
            .value();
    p.ids.push_back(
        p.reg->register_certificate(cert.pem(), registry::certificate_status::active).value());
    p.keep.push_back(cert);
  }
  for (std::size_t i = 1; i < p.keep.size(); ++i) {
    p.chains.push_back({p.keep[i].der(), p.keep[0].der()});
  }
  return p;
}

void BM_AuthenticateKnownDevice(benchmark::State& state) {
  static std::map<int, population> pops;
  const int alg = static_cast<int>(state.range(0));
  if (!pops.contains(alg)) pops.emplace(alg, populate(alg, 1000, 100'000));
  auto& p = pops.at(alg);
  for (const auto& c : p.chains) (void)p.reg->authenticate(c);  // first connection of each
  std::size_t i = 0;
  for (auto _ : state) {
    auto a = p.reg->authenticate(p.chains[i]);
    if (!a.accepted()) state.SkipWithError(a.message.c_str());
    benchmark::DoNotOptimize(a);
    if (++i == p.chains.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AuthenticateUncached(benchmark::State& state) {
  static std::map<int, population> pops;
  const int alg = static_cast<int>(state.range(0));
  if (!pops.contains(alg)) pops.emplace(alg, populate(alg, 100, 0));
  auto& p = pops.at(alg);
  std::size_t i = 0;
  for (auto _ : state) {
    auto a = p.reg->authenticate(p.chains[i]);
    if (!a.accepted()) state.SkipWithError(a.message.c_str());
    benchmark::DoNotOptimize(a);
    if (++i == p.chains.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_FindCertificate(benchmark::State& state) {
  static std::map<std::int64_t, population> pops;
  const auto n = state.range(0);
  if (!pops.contains(n)) pops.emplace(n, populate(1, static_cast<std::size_t>(n), 0));
  auto& p = pops.at(n);
  std::size_t i = 0;
  for (auto _ : state) {
    auto rec = p.reg->find_certificate(p.ids[i]);
    benchmark::DoNotOptimize(rec);
    if (++i == p.ids.size()) i = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_AuthenticateKnownDevice)->ArgName("alg")->Arg(0)->Arg(1);
BENCHMARK(BM_AuthenticateUncached)->ArgName("alg")->Arg(0)->Arg(1);
BENCHMARK(BM_FindCertificate)->ArgName("certificates")->Arg(1'000)->Arg(10'000);

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  std::error_code ec;
  std::filesystem::remove_all(scratch(), ec);
  return 0;
}
