// shadow update documents: up to 8 requests (separated by NUL bytes) applied in turn to a
// shadow, with generous and with tight limits. Nothing may crash; every payload built
// must be JSON; a rejection must leave the document unchanged; an accepted update must
// bump the version by one and keep the state within the size limit; and the stored form
// must parse back to the same document (metadata and delta included).
#include <iotblocks/shadow/document.hpp>

#include "core/json.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using iotblocks::shadow::document;
using iotblocks::shadow::limits;

void check_json(const std::string& text) {
  if (text.empty()) return;
  if (!iotblocks::json::parse(text, {.max_depth = 128})) std::abort();
}

void run(std::string_view input, const limits& l) {
  document doc;
  std::int64_t now = 1000;
  for (int round = 0; round < 8 && !input.empty(); ++round) {
    const auto cut = input.find('\0');
    const std::string_view request = input.substr(0, cut);
    input = cut == std::string_view::npos ? std::string_view{} : input.substr(cut + 1);
    const std::string before = doc.to_storage();
    const std::int64_t version = doc.version();
    const bool existed = doc.exists();
    auto out = doc.update(request, ++now, l);
    check_json(out.body);
    check_json(out.delta);
    check_json(out.documents);
    if (!out.accepted()) {
      if (doc.to_storage() != before) std::abort();
      continue;
    }
    if (existed && doc.version() != version + 1) std::abort();
    const std::string stored = doc.to_storage();
    auto again = document::parse(stored, limits{}.max_depth(l.max_depth() + 2));
    if (!again || again->to_storage() != stored) std::abort();
    auto get1 = doc.get("", now, "t", l);
    auto get2 = again->get("", now, "t", l);
    if (!get1.accepted() || get1.body != get2.body) std::abort();
    check_json(get1.body);
    if (round % 3 == 2) {
      auto del = doc.remove("", now, "t", l);
      if (!del.accepted() || doc.exists()) std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  run(input, limits{});
  run(input, limits{}.max_document_size(96).max_depth(4).max_client_token(8));
  return 0;
}
