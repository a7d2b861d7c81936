// A bare-metal program that makes a std::system_error (never thrown): its
// destructor is libstdc++'s system_error.o, so that object is linked whatever else
// is. Linked with iotblocks::baremetal too, the link must succeed and take
// libstdc++'s definitions over the library's weak ones (scripts/cross.sh checks).
#include <system_error>

volatile int rx;

int main() {
  const std::system_error e(std::error_code(rx, std::generic_category()));
  return e.code().value();
}
