// A bare-metal program that defines one std::error_category of its own (no
// iotblocks) and sets an error_code of it: what having an error category costs.
// Its vtable and destructor need libstdc++'s system_error.o, whose static
// initializer keeps the system and generic categories (strerror, std::string) and
// pulls in the locale objects. Linked like error_code.cpp.
#include <string>
#include <system_error>

namespace {
struct own_category final : std::error_category {
  const char* name() const noexcept override { return "own"; }
  std::string message(int) const override { return {}; }
};
}  // namespace

const std::error_category& own() {
  static const own_category category;
  return category;
}

volatile int rx;

int main() {
  const std::error_code ec(rx, own());
  return ec ? 1 : 0;
}
