// The thermostat on a Cortex-M4 (STM32F405, stm32f405.ld): the broker's packets
// arrive in 7-byte pieces as from a UART, then 201 temperature samples, the last a
// spike. Prints what happened through semihosting and exits 0 when the device
// subscribed, applied the delta and flagged exactly the spike.
// scripts/cross.sh cortex-m4 links it and runs it under qemu-system-arm.
#include "thermostat.hpp"

#include <algorithm>
#include <cstdio>

extern "C" void initialise_monitor_handles();  // newlib's rdimon: semihosting stdio

int main() {
  initialise_monitor_handles();
  thermostat::device dev{"thermostat-7"};
  iotblocks::byte_buffer out;
  if (dev.start(out)) return 1;
  const auto script = thermostat::broker_script("thermostat-7");
  for (std::size_t i = 0; i < script.size(); i += 7) {
    const std::size_t n = std::min<std::size_t>(7, script.size() - i);
    if (auto ec = dev.receive({script.data() + i, n}, 1700000100, out)) {
      std::printf("thermostat: receive failed at byte %u\n", static_cast<unsigned>(i));
      return 1;
    }
  }
  for (int i = 0; i < 200; ++i) {
    if (dev.sample(2150 + (i * 7919) % 21 - 10, out)) return 1;
  }
  if (dev.sample(3500, out)) return 1;
  std::printf("thermostat: subscribed %d, setpoint %ld, deltas %lu, anomalies %lu, %u bytes sent\n",
              dev.subscribed() ? 1 : 0, static_cast<long>(dev.setpoint()),
              static_cast<unsigned long>(dev.deltas_applied()),
              static_cast<unsigned long>(dev.anomalies()), static_cast<unsigned>(out.size()));
  const bool ok = dev.subscribed() && dev.setpoint() == 2250 && dev.deltas_applied() == 1 &&
                  dev.anomalies() == 1;
  std::printf("thermostat: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
