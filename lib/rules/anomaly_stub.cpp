// Without the anomaly component there is no `anomaly` action.
#include "rules/builtin.hpp"

namespace iotblocks::rules::detail {

void register_anomaly(std::map<std::string, action_factory, std::less<>>&, const services&) {}

}  // namespace iotblocks::rules::detail
