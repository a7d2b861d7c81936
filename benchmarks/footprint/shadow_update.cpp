// A bare-metal program that applies a shadow update to a document and builds the
// delta (iotblocks::shadow::document: JSON parse, merge, delta, serialise): linked
// for Cortex-M4 with --gc-sections by scripts/cross.sh (docs/firmware.md, "Linked").
#include <iotblocks/shadow/document.hpp>

#include <cstddef>
#include <string>

namespace shadow = iotblocks::shadow;

// The shadow parser and merge keep thread_local scratch space, so a firmware gives
// them a thread pointer: __aeabi_read_tp, which an RTOS provides for each task and
// newlib does not. This one-task program points it at one static block (on the
// host, the C library has thread pointers).
#if defined(__arm__) && !defined(__linux__)
extern "C" {
alignas(8) unsigned char footprint_tls[1024];
}
__asm__(
    ".text\n.global __aeabi_read_tp\n.thumb_func\n.type __aeabi_read_tp, %function\n"
    "__aeabi_read_tp:\n  ldr r0, =footprint_tls\n  bx lr\n.ltorg\n");
#endif

// Input the linker cannot see through: a request lands here, the delta leaves there.
volatile char rx[256];
volatile char tx[256];

int main() {
  std::string request;
  for (std::size_t i = 0; i < sizeof rx && rx[i] != '\0'; ++i) request.push_back(rx[i]);
  shadow::document doc;
  auto out = doc.update(request, 1700000000);
  for (std::size_t i = 0; i < out.delta.size() && i < sizeof tx; ++i) tx[i] = out.delta[i];
  return out.status == 200 ? 0 : 1;
}
