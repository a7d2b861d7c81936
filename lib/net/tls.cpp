#include "net/tls.hpp"

#include <iotblocks/core/error.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <fmt/format.h>

#include <cstring>

namespace iotblocks::net::detail {
namespace {

struct context_data {
  tls_options options;
  std::vector<unsigned char> alpn_wire;  // length-prefixed protocol list
};

byte_buffer to_der(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return {};
  byte_buffer out(reinterpret_cast<std::byte*>(der), reinterpret_cast<std::byte*>(der) + len);
  OPENSSL_free(der);
  return out;
}

// Replaces OpenSSL's chain verification for client certificates.
int verify_peer(X509_STORE_CTX* store, void* arg) {
  auto* data = static_cast<context_data*>(arg);
  auto* ssl =
      static_cast<SSL*>(X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  auto* sink = ssl != nullptr
                   ? static_cast<tls_peer_sink*>(SSL_get_ex_data(ssl, ssl_connection_index()))
                   : nullptr;
  if (sink == nullptr) return 0;

  peer_info peer;
  if (X509* leaf = X509_STORE_CTX_get0_cert(store)) peer.chain.push_back(to_der(leaf));
  if (STACK_OF(X509)* rest = X509_STORE_CTX_get0_untrusted(store)) {
    for (int i = 0; i < sk_X509_num(rest); ++i) {
      X509* c = sk_X509_value(rest, i);
      if (c != X509_STORE_CTX_get0_cert(store)) peer.chain.push_back(to_der(c));
    }
  }
  if (!data->options.ca_file.empty() && X509_verify_cert(store) != 1) {
    const int code = X509_STORE_CTX_get_error(store);
    sink->tls_chain_refused(peer, {code, X509_verify_cert_error_string(code)});
    return 0;
  }
  return sink->check_tls_peer(peer) ? 1 : 0;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* outlen, const unsigned char* in,
                unsigned int inlen, void* arg) {
  auto* data = static_cast<context_data*>(arg);
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, outlen, data->alpn_wire.data(),
                            static_cast<unsigned>(data->alpn_wire.size()), in,
                            inlen) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: go on without ALPN
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string openssl_error() {
  char buf[256];
  ERR_error_string_n(ERR_get_error(), buf, sizeof buf);
  return buf;
}

}  // namespace

int ssl_connection_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

result<std::shared_ptr<boost::asio::ssl::context>> make_server_context(const tls_options& o) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_use_certificate_chain_file(native, o.cert_file.c_str()) != 1) {
    return {core::error::io_error,
            fmt::format("TLS certificate '{}': {}", o.cert_file, openssl_error())};
  }
  if (SSL_CTX_use_PrivateKey_file(native, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(native) != 1) {
    return {core::error::io_error, fmt::format("TLS key '{}': {}", o.key_file, openssl_error())};
  }
  if (!o.ca_file.empty() &&
      SSL_CTX_load_verify_locations(native, o.ca_file.c_str(), nullptr) != 1) {
    return {core::error::io_error, fmt::format("TLS CA file '{}': {}", o.ca_file, openssl_error())};
  }

  // The context owns its settings through ex_data, freed with the context.
  auto* data = new context_data{o, {}};
  for (const auto& p : o.alpn) {
    if (p.empty() || p.size() > 255) continue;
    data->alpn_wire.push_back(static_cast<unsigned char>(p.size()));
    data->alpn_wire.insert(data->alpn_wire.end(), p.begin(), p.end());
  }
  static const int freeing_index = SSL_CTX_get_ex_new_index(
      0, nullptr, nullptr, nullptr, [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
        delete static_cast<context_data*>(ptr);
      });
  SSL_CTX_set_ex_data(native, freeing_index, data);

  if (o.request_client_cert || o.require_client_cert) {
    int mode = SSL_VERIFY_PEER;
    if (o.require_client_cert) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(native, mode, nullptr);
    SSL_CTX_set_cert_verify_callback(native, &verify_peer, data);
  }
  if (!data->alpn_wire.empty()) SSL_CTX_set_alpn_select_cb(native, &select_alpn, data);
  return ctx;
}

}  // namespace iotblocks::net::detail
