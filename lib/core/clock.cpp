#include <iotblocks/core/clock.hpp>

namespace iotblocks {

const clock& default_clock() noexcept {
  static const system_clock instance;
  return instance;
}

}  // namespace iotblocks
