# Bare-metal Cortex-M4 (Thumb-2, soft-float ABI) with Debian's gcc-arm-none-eabi and
# libstdc++-arm-none-eabi-newlib (scripts/cross.sh installs them). Libraries only:
# the blocks build as static archives; a firmware links them with its own startup
# code and linker script. -fno-exceptions -fno-rtti come from IOTBLOCKS_NO_EXCEPTIONS.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# -Wno-psabi: GCC's note that the ABI of passing some classes changed in GCC 7.1,
# printed for every std::vector iterator; nothing here is linked with GCC < 7 code.
set(CMAKE_CXX_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections -Wno-psabi")
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m4 -mthumb -ffunction-sections -fdata-sections")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-Wl,--gc-sections --specs=nano.specs --specs=nosys.specs")
# Nothing of the host is found: no package of the build machine fits this target.
set(CMAKE_FIND_ROOT_PATH /usr/lib/arm-none-eabi)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
