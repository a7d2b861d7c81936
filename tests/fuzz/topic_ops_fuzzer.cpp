// Random operation sequences on the subscription index and the retained store,
// checked step by step against naive references written from the spec
// (topic::matches over a list). Filters and names mix a small vocabulary (so
// operations collide) with raw input bytes (so validation is exercised too).
#include "../topic/reference_index.hpp"

#include <iotblocks/topic/index.hpp>
#include <iotblocks/topic/retained.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace {

using namespace iotblocks::topic;

class reader {
 public:
  reader(const std::uint8_t* data, std::size_t size) : p_(data), end_(data + size) {}
  bool done() const { return p_ == end_; }
  std::uint8_t byte() { return p_ == end_ ? 0 : *p_++; }

  std::string level(bool wildcards) {
    static const char* vocab[] = {"a", "b", "", "$SYS", "dev", "sensor-000000042", "c", "+", "#"};
    const std::uint8_t b = byte();
    if (b < 240) return vocab[b % (wildcards ? 9 : 7)];
    std::string raw;
    for (int n = b % 8; n > 0 && !done(); --n) raw += static_cast<char>(byte());
    return raw;
  }
  std::string text(bool filter) {
    std::string s;
    const int depth = 1 + byte() % 6;
    for (int i = 0; i < depth; ++i) s += (i ? "/" : "") + level(filter);
    if (filter && byte() % 8 == 0) s = "$share/g" + std::to_string(byte() % 3) + "/" + s;
    return s;
  }
  subscription_options options() {
    const std::uint8_t b = byte();
    return {static_cast<std::uint8_t>(b % 3), (b & 8) != 0, (b & 16) != 0,
            static_cast<std::uint8_t>((b >> 5) % 3), byte() % 4u};
  }

 private:
  const std::uint8_t* p_;
  const std::uint8_t* end_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader in(data, size);
  subscription_index index;
  index.max_levels(8);
  // The input's length picks how many '+' patterns the shape table takes (the
  // rest go to the trie), without changing how the bytes are read.
  index.max_wildcard_shapes(size % 4 == 0 ? 0 : size % 4 == 1 ? 1 : size % 4 == 2 ? 3 : 64);
  iotblocks::topic::testing::reference_index ref;
  retained_store<int> retained;
  std::map<std::string, int> retained_ref;
  const limits lim{65535, 8};
  for (int step = 0; step < 256 && !in.done(); ++step) {
    switch (in.byte() % 10) {
      case 0:
      case 1:
      case 2: {
        const std::string f = in.text(true);
        const subscriber_id s = in.byte() % 8;
        auto o = in.options();
        if (is_shared(f)) o.no_local = false;
        const auto got = index.subscribe(f, s, o);
        if (validate_filter(f, lim)) {
          if (got.ok()) std::abort();
        } else if (!got.ok() || *got != ref.subscribe(f, s, o)) {
          std::abort();
        }
        break;
      }
      case 3:
      case 4: {
        const std::string f = in.text(true);
        const subscriber_id s = in.byte() % 8;
        if (index.unsubscribe(f, s) != (!validate_filter(f, lim) && ref.unsubscribe(f, s))) {
          std::abort();
        }
        break;
      }
      case 5: {
        const std::string t = in.text(false);
        if (validate_name(t)) break;
        const match_context ctx{static_cast<subscriber_id>(in.byte() % 8), "client"};
        if (!ref.check(index, t, ctx).empty()) std::abort();
        if (index.any_match(t) != ref.any(t)) std::abort();
        break;
      }
      case 6: {  // a batch of up to 12 valid topics
        std::vector<std::string> topics;
        for (int n = in.byte() % 13; n > 0; --n) {
          if (std::string t = in.text(false); !validate_name(t)) topics.push_back(std::move(t));
        }
        const std::vector<std::string_view> views(topics.begin(), topics.end());
        const match_context ctx{static_cast<subscriber_id>(in.byte() % 8), "client"};
        if (!ref.check_batch(index, views, ctx).empty()) std::abort();
        break;
      }
      case 7: {
        const std::string t = in.text(false);
        const int v = in.byte();
        const auto r = retained.set(t, v);
        if (r.ok() == static_cast<bool>(validate_name(t))) std::abort();
        if (r.ok()) {
          const bool fresh = retained_ref.insert_or_assign(t, v).second;
          if (*r != fresh) std::abort();
        }
        break;
      }
      case 8: {
        const std::string t = in.text(false);
        if (retained.erase(t) != (retained_ref.erase(t) == 1)) std::abort();
        break;
      }
      case 9: {
        const std::string f = in.text(true);
        std::vector<std::string> got, want;
        const auto r = retained.for_each(f, [&](std::string_view t, const int& v) {
          if (retained_ref.at(std::string{t}) != v) std::abort();
          got.emplace_back(t);
        });
        if (r.ok() == static_cast<bool>(validate_filter(f))) std::abort();
        if (!r.ok()) break;
        shared_filter sf{{}, f};
        if (is_shared(f)) (void)parse_shared(f, sf);
        for (const auto& [t, v] : retained_ref) {
          if (matches(sf.filter, t)) want.push_back(t);
        }
        std::sort(got.begin(), got.end());
        if (got != want) std::abort();
        break;
      }
    }
    if (index.size() != ref.size() || retained.size() != retained_ref.size()) std::abort();
  }
  return 0;
}
