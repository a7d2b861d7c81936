// Reset and the vector table for a Cortex-M4 (stm32f405.ld): copies .data and the
// thread-local image, zeroes .bss, runs the static constructors, then main(), then
// exit() (semihosting ends the program under qemu). Peripheral interrupts are not
// used, so the table holds only the 16 core entries.
#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" {
// Addresses the linker script defines.
extern std::uint8_t _estack[], _sidata[], _sdata[], _edata[], _sbss[], _ebss[];
extern std::uint8_t _stdata[], _etdata[], _tls_block[];
void __libc_init_array();
int main();

// With -nostartfiles there are no crti/crtn/crtbegin: __libc_init_array calls _init,
// and destructors registered at exit name this program by __dso_handle.
void _init() {}
void _fini() {}
void* __dso_handle = nullptr;

// The thread pointer of the one thread (shadow and sql keep thread_local scratch).
[[gnu::naked]] void* __aeabi_read_tp() { __asm__("ldr r0, =_tls_block\n bx lr\n .ltorg"); }

[[noreturn]] void Reset_Handler() {
  std::memcpy(_sdata, _sidata, static_cast<std::size_t>(_edata - _sdata));
  std::memset(_sbss, 0, static_cast<std::size_t>(_ebss - _sbss));
  std::memcpy(_tls_block + 8, _stdata, static_cast<std::size_t>(_etdata - _stdata));
  __libc_init_array();
  std::exit(main());
}

[[noreturn]] void Default_Handler() {
  for (;;) {
  }
}
}

using handler = void (*)();

[[gnu::section(".isr_vector"), gnu::used]] const handler vector_table[16] = {
    reinterpret_cast<handler>(_estack),  // initial stack pointer
    Reset_Handler,
    Default_Handler,  // NMI
    Default_Handler,  // HardFault
    Default_Handler,  // MemManage
    Default_Handler,  // BusFault
    Default_Handler,  // UsageFault
    nullptr,
    nullptr,
    nullptr,
    nullptr,
    Default_Handler,  // SVCall
    Default_Handler,  // DebugMonitor
    nullptr,
    Default_Handler,  // PendSV
    Default_Handler,  // SysTick
};
