// Replays fuzzer inputs (files or directories of files) through one fuzzer's
// entry point, so every fuzzer's corpus runs under gcc in ctest:
//   fuzz_replay <fuzzer name> <file or directory>...
// Each fuzzer's LLVMFuzzerTestOneInput is compiled here as iotblocks_fuzz_<name>
// (tests/fuzz/CMakeLists.txt); fuzzers.inc lists them.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string_view>
#include <vector>

using fuzz_entry = int (*)(const std::uint8_t* data, std::size_t size);

#define FUZZER(name) extern "C" int iotblocks_fuzz_##name(const std::uint8_t*, std::size_t);
#include "fuzzers.inc"
#undef FUZZER

namespace {

struct fuzzer {
  std::string_view name;
  fuzz_entry entry;
};

#define FUZZER(name) fuzzer{#name, iotblocks_fuzz_##name},
constexpr fuzzer fuzzers[] = {
#include "fuzzers.inc"
};
#undef FUZZER

void replay(fuzz_entry entry, const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::vector<char> bytes{std::istreambuf_iterator<char>(in), {}};
  entry(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: fuzz_replay <fuzzer> <file or directory>...\n");
    return 2;
  }
  const auto* found = std::find_if(std::begin(fuzzers), std::end(fuzzers),
                                   [&](const fuzzer& f) { return f.name == argv[1]; });
  if (found == std::end(fuzzers)) {
    std::fprintf(stderr, "fuzz_replay: no fuzzer named %s\n", argv[1]);
    return 2;
  }
  std::size_t count = 0;
  for (int i = 2; i < argc; ++i) {
    const std::filesystem::path arg = argv[i];
    if (std::filesystem::is_directory(arg)) {
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) replay(found->entry, f), ++count;
    } else {
      replay(found->entry, arg);
      ++count;
    }
  }
  std::printf("replayed %zu inputs with %s\n", count, argv[1]);
  return count > 0 ? 0 : 1;
}
