// Uses the installed library the way an application would.
#include <iotblocks/core.hpp>

#include <cstdio>
#include <string_view>

int main() {
  const auto decoded = iotblocks::from_base64(iotblocks::to_base64(iotblocks::as_bytes("iot")));
  if (!decoded || iotblocks::as_string_view(*decoded) != std::string_view{"iot"}) return 1;
  std::printf("iotblocks %s linked\n", std::string(iotblocks::version_string).c_str());
  return 0;
}
