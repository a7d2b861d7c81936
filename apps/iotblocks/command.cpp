#include "command.hpp"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <utility>

namespace iotblocks::cli {
namespace {

std::vector<std::pair<int, setup_fn>>& table() {
  static std::vector<std::pair<int, setup_fn>> t;
  return t;
}

}  // namespace

registrar::registrar(int order, setup_fn setup) { table().emplace_back(order, setup); }

std::vector<setup_fn> registered_commands() {
  auto t = table();
  std::stable_sort(t.begin(), t.end(), [](auto& a, auto& b) { return a.first < b.first; });
  std::vector<setup_fn> out;
  for (auto& [order, fn] : t) out.push_back(fn);
  return out;
}

std::string read_input(const std::string& path) {
  if (path.empty() || path == "-") {
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    return std::move(ss).str();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(bad_input, "cannot open '" + path + "'");
  return {std::istreambuf_iterator<char>(in), {}};
}

void print_line(std::string_view text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
}

}  // namespace iotblocks::cli
