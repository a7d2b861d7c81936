// Private: the factories of the detectors other than PEWMA, called by make_detector (factory.cpp).
#pragma once

#include <iotblocks/anomaly/detector.hpp>

#include <memory>
#include <string_view>

namespace iotblocks::anomaly::detail {

result<std::shared_ptr<const detector>> make_ewma(std::string_view parameters);
result<std::shared_ptr<const detector>> make_ensemble(std::string_view parameters);
result<std::shared_ptr<const detector>> make_bocpd(std::string_view parameters);

}  // namespace iotblocks::anomaly::detail
