// make_detector: detector names to detector objects, with "key=value" parameters.
#include "anomaly/factory.hpp"
#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/detector.hpp>
#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/pewma.hpp>

#include <string>

namespace iotblocks::anomaly {
namespace {

using detail::bad_parameter;
using detail::parse_double;
using detail::parse_uint;

// '<value>' (built with append: GCC 12 -O3 warns falsely on "'" + std::string).
std::string quoted(std::string_view value) {
  std::string q;
  q.reserve(value.size() + 2);
  q.push_back('\'');
  q.append(value);
  q.push_back('\'');
  return q;
}

result<void> set_double(double& field, std::string_view key, std::string_view value) {
  auto v = parse_double(value);
  if (!v) return bad_parameter(key, quoted(value) + " is not a finite number");
  field = *v;
  return {};
}

result<void> set_u32(std::uint32_t& field, std::string_view key, std::string_view value) {
  auto v = parse_uint(value);
  if (!v || *v > 0xFFFFFFFFu) {
    return bad_parameter(key, quoted(value) + " is not an unsigned integer");
  }
  field = static_cast<std::uint32_t>(*v);
  return {};
}

failure unknown_key(std::string_view detector, std::string_view key) {
  return bad_parameter(key, "not a parameter of " + std::string(detector));
}

result<std::shared_ptr<const detector>> make_pewma(std::string_view text) {
  pewma_params p;
  auto r = detail::parse_parameters(text, [&](std::string_view k, std::string_view v) {
    if (k == "alpha0") return set_double(p.alpha0, k, v);
    if (k == "beta") return set_double(p.beta, k, v);
    if (k == "training" || k == "T") return set_u32(p.training, k, v);
    if (k == "threshold") return set_double(p.threshold, k, v);
    if (k == "max_abs_value") return set_double(p.max_abs_value, k, v);
    return result<void>{unknown_key("pewma", k)};
  });
  if (!r) return std::move(r).take_failure();
  auto d = pewma::create(p);
  if (!d) return std::move(d).take_failure();
  return std::shared_ptr<const detector>(std::make_shared<pewma>(std::move(*d)));
}

}  // namespace

std::vector<std::string_view> detector_names() { return {"ensemble", "bocpd", "ewma", "pewma"}; }

result<std::shared_ptr<const detector>> make_detector(std::string_view name,
                                                      std::string_view parameters) {
  if (name == "pewma") return make_pewma(parameters);
  if (name == "ewma") return detail::make_ewma(parameters);
  if (name == "ensemble") return detail::make_ensemble(parameters);
  if (name == "bocpd") return detail::make_bocpd(parameters);
  return failure{error::unknown_detector, "unknown detector '" + std::string(name) + "'", {}};
}

}  // namespace iotblocks::anomaly
