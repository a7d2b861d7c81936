// provisioning templates: the input is a template body, a NUL byte and device parameters as
// "name=value" lines. Nothing may crash or run unbounded; every failure is of the
// provisioning category with a message; a plan's thing name obeys AWS's rule; evaluating
// twice gives the same plan.
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/template.hpp>

#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

namespace {

using namespace iotblocks::provisioning;

void check_failure(const iotblocks::failure& f) {
  if (f.code.category() != error_category() || f.describe().empty()) std::abort();
}

void run(std::string_view input, const limits& l) {
  const auto cut = input.find('\0');
  const std::string_view body = input.substr(0, cut);
  std::map<std::string, std::string> params;
  if (cut != std::string_view::npos) {
    std::string_view rest = input.substr(cut + 1);
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      const std::string_view line = rest.substr(0, nl);
      const auto eq = line.find('=');
      params[std::string(line.substr(0, eq))] =
          eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1));
      if (nl == std::string_view::npos) break;
      rest.remove_prefix(nl + 1);
    }
  }
  auto t = parse_template(body, l);
  if (!t) return check_failure(t.fail());
  if (t->body() != body) std::abort();
  const std::map<std::string, std::string> pseudo{{"AWS::IoT::Certificate::Id", "c0ffee"}};
  auto p = evaluate(*t, params, pseudo, l);
  if (!p) return check_failure(p.fail());
  if (p->thing) {
    const auto& name = p->thing->name;
    if (name.empty() || name.size() > 128 || name.find('/') != std::string::npos) std::abort();
  }
  auto again = evaluate(*t, params, pseudo, l);
  if (!again || !(*again == *p)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input{reinterpret_cast<const char*>(data), size};
  run(input, limits{});
  run(input, limits{}.max_depth(4).max_output(256).max_parameters(2).max_parameter_value(16));
  return 0;
}
