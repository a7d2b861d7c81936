#include "x509/pem.hpp"

#include <iotblocks/x509/error.hpp>

#include <fmt/format.h>

#include <string>

namespace iotblocks::x509::pem {
namespace {

constexpr std::string_view begin_marker = "-----BEGIN ";
constexpr std::string_view dashes = "-----";

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool is_base64(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/' || c == '=';
}

failure fail_at(std::string_view text, std::size_t offset, error e, std::string message) {
  return failure{e, std::move(message), position_in(text, offset)};
}

}  // namespace

result<std::vector<block>> scan(std::string_view text, std::string_view label,
                                std::size_t max_blocks, std::size_t max_der) {
  std::vector<block> out;
  std::size_t pos = 0;
  while ((pos = text.find(begin_marker, pos)) != std::string_view::npos) {
    const std::size_t label_start = pos + begin_marker.size();
    const std::size_t label_end = text.find(dashes, label_start);
    const std::size_t line_end = text.find('\n', label_start);
    if (label_end == std::string_view::npos || label_end > line_end) {
      return fail_at(text, pos, error::invalid_pem, "malformed PEM BEGIN line");
    }
    const std::string_view found = text.substr(label_start, label_end - label_start);
    if (found != label) {
      return fail_at(
          text, pos, error::unexpected_pem_block,
          fmt::format("unexpected PEM block '{}' (expected '{}')", found.substr(0, 64), label));
    }
    if (out.size() == max_blocks) {
      return fail_at(text, pos, error::too_many_certificates,
                     fmt::format("more than {} PEM blocks", max_blocks));
    }
    const std::size_t body = label_end + dashes.size();
    const std::string closing = fmt::format("-----END {}-----", label);
    const std::size_t end_at = text.find(closing, body);
    if (end_at == std::string_view::npos) {
      return fail_at(text, pos, error::invalid_pem, fmt::format("missing '{}'", closing));
    }
    if ((end_at - body) / 4 * 3 > max_der + 64) {
      return fail_at(text, pos, error::too_large,
                     fmt::format("PEM block larger than {} bytes", max_der));
    }
    std::string b64;
    b64.reserve(end_at - body);
    for (std::size_t i = body; i < end_at; ++i) {
      const char c = text[i];
      if (is_space(c)) continue;
      if (c == ':') {
        return fail_at(text, i, error::invalid_pem,
                       "PEM headers (encrypted or legacy blocks) are not supported");
      }
      if (!is_base64(c)) return fail_at(text, i, error::invalid_pem, "invalid base64 character");
      b64.push_back(c);
    }
    auto der = from_base64(b64);
    if (!der) return fail_at(text, body, error::invalid_pem, "invalid base64 in PEM body");
    if (der->empty()) return fail_at(text, pos, error::invalid_pem, "empty PEM block");
    if (der->size() > max_der) {
      return fail_at(text, pos, error::too_large,
                     fmt::format("PEM block larger than {} bytes", max_der));
    }
    out.push_back(block{found, std::move(*der), pos});
    pos = end_at + closing.size();
  }
  return out;
}

std::string encode(bytes_view der, std::string_view label) {
  const std::string b64 = to_base64(der);
  std::string out = fmt::format("-----BEGIN {}-----\n", label);
  for (std::size_t i = 0; i < b64.size(); i += 64) {
    out.append(b64, i, 64);
    out.push_back('\n');
  }
  out += fmt::format("-----END {}-----\n", label);
  return out;
}

}  // namespace iotblocks::x509::pem
