// Rule SQL and templates: compiling never crashes, stays within the depth limit
// whatever the nesting, and every compiled rule evaluates against a small set of
// payloads without crashing; matches() and evaluate() agree.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/sql.hpp>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

iotblocks::sql::evaluator& shared_evaluator() {
  static iotblocks::sql::evaluator ev(
      iotblocks::sql::evaluator_options{}.max_memory(1 << 20).max_regex_steps(100000));
  return ev;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace iotblocks;
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  const auto options = sql::compile_options{}.max_depth(32).max_length(8192);
  auto r = sql::compile(text, options);
  (void)sql::compile_template(text, options, r ? &*r : nullptr);
  if (!r) {
    if (r.error().category() != sql::error_category()) std::abort();
    if (r.describe().empty()) std::abort();
    return 0;
  }
  static const std::string payloads[] = {
      R"({"a":1,"b":"x","c":[1,2,{"d":null}],"e":{"f":2.5,"g":true},"lux":36250})", "not json",
      "[1,2,3]", R"({"a":{"b":{"c":"deep"}},"e":[{"n":"t","v":1},{"n":"u","v":2}]})", ""};
  auto& ev = shared_evaluator();
  for (const auto& p : payloads) {
    sql::message m;
    m.topic = "a/b/c";
    m.payload = as_bytes(p);
    auto out = ev.evaluate(*r, m);
    const bool has = out.ok() && out->has_value();
    auto matched = ev.matches(*r, m);
    if (out.ok() && matched.ok() && *matched != has) std::abort();
  }
  return 0;
}
