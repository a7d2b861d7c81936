// jobs device requests: the input is a topic, a NUL byte and a payload (repeated up to 8
// times), routed to a service with two things and two jobs. Nothing may crash; every reply
// must be one JSON object on {topic}/accepted or {topic}/rejected with a code; the parsers
// alone must agree with the router on rejections; versions never go down and a terminal
// execution never leaves its status.
#include <iotblocks/jobs/service.hpp>

#include "core/json.hpp"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace iotblocks;
using namespace iotblocks::jobs;

void check_json(const std::string& text) {
  auto d = json::parse(text, {.max_depth = 128});
  if (!d || !d->IsObject()) std::abort();
}

void run(std::string_view input, const limits& l) {
  manual_clock clock{from_unix_ms(1'700'000'000'000)};
  memory_store store;
  service svc{store, clock, l};
  router r{svc};
  if (!svc.create_job({"a", R"({"x":1})", {"t1", "t2"}, 1})) std::abort();
  if (!svc.create_job({"b", "{}", {"t1"}})) std::abort();
  for (int round = 0; round < 8 && !input.empty(); ++round) {
    const auto cut = input.find('\0');
    const std::string_view topic = input.substr(0, cut);
    input = cut == std::string_view::npos ? std::string_view{} : input.substr(cut + 1);
    const auto cut2 = input.find('\0');
    const std::string_view payload = input.substr(0, cut2);
    input = cut2 == std::string_view::npos ? std::string_view{} : input.substr(cut2 + 1);

    const auto before1 = store.find_execution("t1", "a");
    auto out = r.route(topic, payload);
    const auto t = parse_topic(topic, l);
    if (!out) {
      if (t.error() != error::not_a_jobs_topic) std::abort();
      continue;
    }
    if (out->empty()) std::abort();
    for (const auto& m : *out) check_json(m.payload);
    const auto& reply = out->front();
    const bool ok = reply.topic.ends_with("/accepted");
    if (!ok && !reply.topic.ends_with("/rejected")) std::abort();
    if (!ok && reply.payload.find("\"code\":") == std::string::npos) std::abort();
    if (t && !parse_request(t->op, payload, l) && ok) std::abort();
    const auto after1 = store.find_execution("t1", "a");
    if (after1->version < before1->version) std::abort();
    if (is_terminal(before1->status) && after1->status != before1->status) std::abort();
    clock.advance(std::chrono::seconds(45));
    if (!svc.tick(clock.now())) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  run(input, limits{});
  run(input, limits{}.max_client_token(4).max_status_details(2).max_depth(3).max_request_size(64));
  return 0;
}
