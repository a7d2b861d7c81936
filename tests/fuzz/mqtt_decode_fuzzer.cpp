// mqtt decoder on hostile bytes: never crashes, errors carry a reason code and
// an offset inside the input, every accessor of a decoded packet is safe.
#include "mqtt_fuzz.hpp"

#include <string>

using namespace iotblocks;
using namespace iotblocks::mqtt;

namespace {

void touch(const properties_view& p) {
  std::size_t n = 0;
  for (const property& x : p.all()) n += x.text.size() + x.data.size() + x.name.size();
  fuzz::check(p.count() <= p.bytes().size());
  (void)p.content_type(), (void)p.topic_alias(), (void)p.user_properties().empty();
  (void)n;
}

void touch(const packet_view& p) {
  std::visit(
      [](const auto& x) {
        if constexpr (requires { x.properties; }) touch(x.properties);
        if constexpr (requires { x.subscriptions; }) {
          std::size_t n = 0;
          for (const auto& s : x.subscriptions) n += 1 + 0 * s.filter.size();
          fuzz::check(n == x.subscriptions.size());
        }
        if constexpr (requires { x.filters; }) {
          std::size_t n = 0;
          for (std::string_view f : x.filters) n += 1 + 0 * f.size();
          fuzz::check(n == x.filters.size());
        }
        if constexpr (requires { x.will; }) {
          if (x.will) touch(x.will->properties);
        }
      },
      p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  decoder d = fuzz::make_decoder(data[0]);
  bytes_view in{reinterpret_cast<const std::byte*>(data + 1), size - 1};
  const std::size_t total = in.size();
  std::error_code ec;
  while (!in.empty()) {
    const std::size_t n = d.put(in, ec);
    if (d.has_packet()) {
      fuzz::check(!ec);
      touch(d.get());
      const std::string json = to_json(d.get(), d.protocol().value_or(protocol_version::v5));
      fuzz::check(!json.empty());
      (void)to_owning(d.get());
    } else if (ec != error::need_more) {
      fuzz::check(ec.category() == error_category());
      fuzz::check(d.error_offset() <= total);
      fuzz::check(d.reason() != reason_code::success);
      fuzz::check(to_reason_code(ec) == d.reason());
      fuzz::check(!d.last_failure().describe().empty());
      break;
    }
    in = in.subspan(n);
  }
  fuzz::check(d.buffer_capacity() <= 2 * total + 64);
  return 0;
}
