// A bare-metal program that scores readings with PEWMA (iotblocks::anomaly::pewma):
// linked for Cortex-M4 with --gc-sections by scripts/cross.sh (docs/firmware.md,
// "Linked").
#include <iotblocks/anomaly/pewma.hpp>

namespace anomaly = iotblocks::anomaly;

// Input the linker cannot see through: readings land here, scores leave there.
volatile double rx_value;
volatile double tx_score;
volatile int tx_anomaly;

int main() {
  auto model = anomaly::pewma::create({});
  if (!model) return 1;
  anomaly::pewma_state s;
  anomaly::point_result r;
  for (int i = 0; i < 100; ++i) {
    if (model->update(s, rx_value, r)) return 2;
    tx_score = r.score;
    tx_anomaly = r.anomaly;
  }
  return 0;
}
