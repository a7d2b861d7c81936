// Chain verification, side by side with plain OpenSSL on the same chains.
//
//   BM_OpenSSLVerify/<alg>/<levels>         d2i + X509_STORE_CTX + X509_verify_cert, default flags
//   BM_OpenSSLStrictVerify/<alg>/<levels>   the same with X509_STRICT, PARTIAL_CHAIN, auth level 2
//   BM_IotblocksVerify/<alg>/<levels>       x509::verifier::verify on the DER chain (uncached)
//   BM_ParseCertificate/<alg>               x509::certificate::from_der (all fields extracted)
//
// alg: 0 = RSA-2048, 1 = P-256; levels: 2 (root → leaf) or 3 (root → intermediate → leaf).
// The trust store holds the root; the leaf and any intermediate are presented as DER.
//
//   benchmarks/peers/x509.sh build/bench-x509   (repetitions, interleaving, ratios)
#include <iotblocks/x509.hpp>

#include <benchmark/benchmark.h>

#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <map>
#include <vector>

namespace {

using namespace iotblocks;

struct fixture {
  x509::certificate root;
  std::vector<x509::certificate> presented;  // leaf first
  std::vector<bytes_view> ders;
  X509_STORE* store = nullptr;
};

const fixture& chain_for(int alg_index, int levels) {
  static std::map<std::pair<int, int>, fixture> cache;
  auto key = std::pair{alg_index, levels};
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  const auto alg = alg_index == 0 ? x509::key_algorithm::rsa_2048 : x509::key_algorithm::p256;
  auto root_key = x509::private_key::generate(alg).value();
  auto root = x509::issue({.subject = {{{"CN", "bench root"}}}, .ca = true}, root_key).value();
  std::vector<x509::certificate> presented;
  const x509::certificate* issuer = &root;
  const x509::private_key* issuer_key = &root_key;
  std::optional<x509::certificate> inter;
  std::optional<x509::private_key> inter_key;
  if (levels == 3) {
    inter_key = x509::private_key::generate(alg).value();
    inter = x509::issue({.subject = {{{"CN", "bench intermediate"}}}, .ca = true}, *inter_key,
                        &root, &root_key)
                .value();
    issuer = &*inter;
    issuer_key = &*inter_key;
  }
  auto leaf_key = x509::private_key::generate(alg).value();
  auto leaf = x509::issue({.subject = {{{"CN", "device-1"}}}, .client_auth = true}, leaf_key,
                          issuer, issuer_key)
                  .value();
  presented.push_back(leaf);
  if (inter) presented.push_back(*inter);
  fixture f{root, presented, {}, X509_STORE_new()};
  X509_STORE_add_cert(f.store, static_cast<X509*>(root.native_handle()));
  auto& stored = cache.emplace(key, std::move(f)).first->second;
  for (const auto& c : stored.presented) stored.ders.push_back(c.der());
  return stored;
}

// What an application does with plain OpenSSL given the peer's DER chain.
int openssl_verify(const fixture& f, bool strict) {
  const auto* p = reinterpret_cast<const unsigned char*>(f.ders[0].data());
  X509* leaf = d2i_X509(nullptr, &p, static_cast<long>(f.ders[0].size()));
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (std::size_t i = 1; i < f.ders.size(); ++i) {
    p = reinterpret_cast<const unsigned char*>(f.ders[i].data());
    sk_X509_push(untrusted, d2i_X509(nullptr, &p, static_cast<long>(f.ders[i].size())));
  }
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, f.store, leaf, untrusted);
  if (strict) {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT | X509_V_FLAG_PARTIAL_CHAIN);
    X509_VERIFY_PARAM_set_auth_level(param, 2);
    X509_VERIFY_PARAM_set_depth(param, 8);
    X509_VERIFY_PARAM_set_time(param, time(nullptr));
  }
  const int ok = X509_verify_cert(ctx);
  X509_STORE_CTX_free(ctx);
  sk_X509_pop_free(untrusted, X509_free);
  X509_free(leaf);
  return ok;
}

void BM_OpenSSLVerify(benchmark::State& state) {
  const auto& f = chain_for(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  for (auto _ : state) {
    if (openssl_verify(f, false) != 1) state.SkipWithError("OpenSSL rejected the chain");
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_OpenSSLStrictVerify(benchmark::State& state) {
  const auto& f = chain_for(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  for (auto _ : state) {
    if (openssl_verify(f, true) != 1) state.SkipWithError("OpenSSL rejected the chain");
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_IotblocksVerify(benchmark::State& state) {
  const auto& f = chain_for(static_cast<int>(state.range(0)), static_cast<int>(state.range(1)));
  x509::verifier v;
  v.add_trusted(f.root).value();
  const x509::verify_options o{.profile = x509::profile::strict};  // as the documented figures
  for (auto _ : state) {
    auto r = v.verify(f.ders, o);
    if (!r) state.SkipWithError(r.describe().c_str());
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ParseCertificate(benchmark::State& state) {
  const auto& f = chain_for(static_cast<int>(state.range(0)), 2);
  for (auto _ : state) {
    auto c = x509::certificate::from_der(f.ders[0]);
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(state.iterations());
}

void chains(benchmark::internal::Benchmark* b) {
  b->ArgNames({"alg", "levels"});
  for (int alg : {0, 1}) {
    for (int levels : {2, 3}) b->Args({alg, levels});
  }
}

BENCHMARK(BM_OpenSSLVerify)->Apply(chains);
BENCHMARK(BM_OpenSSLStrictVerify)->Apply(chains);
BENCHMARK(BM_IotblocksVerify)->Apply(chains);
BENCHMARK(BM_ParseCertificate)->ArgName("alg")->Arg(0)->Arg(1);

}  // namespace

BENCHMARK_MAIN();
