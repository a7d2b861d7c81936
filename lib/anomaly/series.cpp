// anomaly::series: one detector state in a vector.
#include "anomaly/internal.hpp"

#include <iotblocks/anomaly/detector.hpp>

namespace iotblocks::anomaly {

series::series(std::shared_ptr<const detector> model)
    : model_(std::move(model)), state_((model_->state_size() + 7) / 8) {
  model_->init(state());
}

bytes_view series::state() const noexcept {
  return {reinterpret_cast<const std::byte*>(state_.data()), model_->state_size()};
}
mutable_bytes_view series::state() noexcept {
  return {reinterpret_cast<std::byte*>(state_.data()), model_->state_size()};
}

std::error_code series::update(double value, std::int64_t time_ms, point_result& out) noexcept {
  return model_->update(state(), value, time_ms, out);
}

result<point_result> series::update(double value, std::int64_t time_ms) {
  point_result out;
  if (auto ec = update(value, time_ms, out)) {
    return failure{ec, ec.message() + " (" + detail::format_double(value) + ")", {}};
  }
  return out;
}

void series::reset() noexcept { model_->init(state()); }

}  // namespace iotblocks::anomaly
