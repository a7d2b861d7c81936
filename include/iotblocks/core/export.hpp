// Symbol visibility of the shared libraries (docs/firmware.md, "Shared libraries").
// Every component compiles with -fvisibility=hidden -fvisibility-inlines-hidden;
// the declarations of a public header sit between IOTBLOCKS_API_BEGIN and
// IOTBLOCKS_API_END and keep default visibility, so a shared library exports them
// and nothing else (no helper of its .cpp files, no third-party code it inlines).
// On ELF a symbol is exported and imported alike, so one pair serves every component.
//
//   #include <iotblocks/core/export.hpp>
//   IOTBLOCKS_API_BEGIN
//   namespace iotblocks::mqtt { ... }
//   IOTBLOCKS_API_END
#pragma once

// IOTBLOCKS_HIDDEN marks a class a public header must name but not export (a pimpl),
// on its declaration and its definition alike (clang requires both to agree).
#if defined(__GNUC__) || defined(__clang__)
#define IOTBLOCKS_API_BEGIN _Pragma("GCC visibility push(default)")
#define IOTBLOCKS_API_END _Pragma("GCC visibility pop")
#define IOTBLOCKS_HIDDEN __attribute__((visibility("hidden")))
#else
#define IOTBLOCKS_API_BEGIN
#define IOTBLOCKS_API_END
#define IOTBLOCKS_HIDDEN
#endif
