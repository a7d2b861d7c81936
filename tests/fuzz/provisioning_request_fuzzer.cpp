// fleet provisioning device requests and pre-provisioning hook answers: the input is a topic,
// a NUL byte and a payload. Nothing may crash; a failure is of the provisioning category; every
// reply built from what was parsed (or from the failure's message) is one JSON object.
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/hook.hpp>
#include <iotblocks/provisioning/request.hpp>

#include "core/json.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace iotblocks;
using namespace iotblocks::provisioning;

void check_json(const std::string& text) {
  auto d = json::parse(text, {.max_depth = 8});
  if (!d || !d->IsObject()) std::abort();
}

template <class R>
void check(const R& r) {
  if (r) return;
  if (r.error().category() != error_category()) std::abort();
  check_json(rejected_payload(r.error(), r.fail().describe()));
}

void run(std::string_view input, const limits& l) {
  const auto cut = input.find('\0');
  const std::string_view topic = input.substr(0, cut);
  const std::string_view payload =
      cut == std::string_view::npos ? std::string_view{} : input.substr(cut + 1);
  auto t = parse_topic(topic);
  check(t);
  if (t && t->op == operation::register_thing && t->template_name.empty()) std::abort();
  check(parse_create_keys(payload, l));
  auto csr = parse_create_from_csr(payload, l);
  check(csr);
  if (csr) check_json(create_from_csr_accepted("id", *csr, "token"));
  auto r = parse_register_thing(payload, l);
  check(r);
  if (r) {
    if (r->ownership_token.empty() || r->parameters.size() > l.max_parameters()) std::abort();
    check_json(register_thing_accepted(r->parameters, r->ownership_token));
  }
  // The same payload as a pre-provisioning hook's answer, and an event with its overrides.
  auto h = parse_hook_response(payload, l);
  check(h);
  if (h && h->overrides.size() > l.max_parameters()) std::abort();
  if (h) check_json(hook_event({"c", "d", "pem", "arn", "id", h->overrides}));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  run(input, limits{});
  run(input, limits{}.max_depth(2).max_parameters(1).max_parameter_value(4).max_request_size(64));
  return 0;
}
