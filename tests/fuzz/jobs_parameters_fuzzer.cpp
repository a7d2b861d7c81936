// ${aws:iot:parameter:…} substitution: the first byte picks the mode. Even: the rest is a
// job document substituted with fixed values; odd: the rest is "key=value" lines given to
// managed template (byte / 2) % count. Nothing may crash; what succeeds is a JSON object
// with no placeholder left.
#include <iotblocks/jobs/managed_templates.hpp>

#include <rapidjson/document.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace iotblocks::jobs;

void check_result(const iotblocks::result<std::string>& r) {
  if (!r) {
    if (r.error() != error::invalid_request) std::abort();
    return;
  }
  rapidjson::Document d;
  d.Parse(r->data(), r->size());
  if (d.HasParseError() || !d.IsObject()) std::abort();
  if (r->find("${aws:iot:parameter:") != std::string::npos) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0) {
    check_result(substitute_parameters(text, {{"a", "x\"}y"}, {"b", "\\"}, {"k-_9", "é"}}));
    return 0;
  }
  parameter_map values;
  std::size_t from = 0;
  while (from < text.size()) {
    auto end = text.find('\n', from);
    if (end == std::string_view::npos) end = text.size();
    const auto line = text.substr(from, end - from);
    const auto eq = line.find('=');
    if (eq != std::string_view::npos) values.emplace(line.substr(0, eq), line.substr(eq + 1));
    from = end + 1;
  }
  const auto all = managed_templates();
  check_result(document_from_template(all[(data[0] / 2u) % all.size()], values));
  return 0;
}
