// Uses one installed component: its umbrella header compiles with only its
// dependencies installed, and its library (linked whole) links.
#include <iotblocks/core.hpp>
#ifdef IOTBLOCKS_UMBRELLA
#include IOTBLOCKS_UMBRELLA
#endif

#include <cstdio>
#include <string>

int main() {
  const auto decoded = iotblocks::from_hex("696f74");
  if (!decoded || iotblocks::as_string_view(*decoded) != "iot") return 1;
  std::printf("iotblocks %s: %s linked\n", std::string(iotblocks::version_string).c_str(),
              IOTBLOCKS_COMPONENT);
  return 0;
}
