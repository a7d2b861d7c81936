// MD2 (RFC 1319): the RFC's own test suite (tests/data/sql/md2_rfc1319.txt) and
// incremental input cut at every block boundary.
#include "sql/md2.hpp"

#include <iotblocks/core/bytes.hpp>

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <utility>
#include <vector>

namespace iotblocks::sql::detail {
namespace {

std::string hex(const md2::digest& d) {
  return to_hex(bytes_view{reinterpret_cast<const std::byte*>(d.data()), d.size()});
}

// Lines `MD2 ("message") = digest`, as printed in appendix A.5.
std::vector<std::pair<std::string, std::string>> rfc_vectors() {
  std::ifstream in("tests/data/sql/md2_rfc1319.txt");
  std::vector<std::pair<std::string, std::string>> out;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto open = line.find("(\"");
    const auto close = line.rfind("\") = ");
    if (open == std::string::npos || close == std::string::npos || close < open) {
      ADD_FAILURE() << "malformed vector line: " << line;
      continue;
    }
    out.emplace_back(line.substr(open + 2, close - open - 2), line.substr(close + 5));
  }
  return out;
}

TEST(SqlMd2, Rfc1319TestSuite) {
  const auto vectors = rfc_vectors();
  ASSERT_EQ(vectors.size(), 7u);
  for (const auto& [message, digest] : vectors) {
    EXPECT_EQ(hex(md2_digest(message)), digest) << '"' << message << '"';
  }
}

TEST(SqlMd2, IncrementalEqualsOneShot) {
  const std::string message =
      "12345678901234567890123456789012345678901234567890123456789012345678901234567890";
  const std::string whole = hex(md2_digest(message));
  for (std::size_t piece = 1; piece <= 33; ++piece) {
    md2 h;
    for (std::size_t i = 0; i < message.size(); i += piece) {
      h.update(std::string_view(message).substr(i, piece));
    }
    EXPECT_EQ(hex(h.finish()), whole) << "pieces of " << piece;
  }
}

TEST(SqlMd2, FinishStartsANewMessage) {
  md2 h;
  h.update("a");
  EXPECT_EQ(hex(h.finish()), "32ec01ec4a6dac72c0ab96fb34c0b5d1");
  h.update("abc");
  EXPECT_EQ(hex(h.finish()), "da853b0d3f88d99b30283a69e6ded6bb");
}

}  // namespace
}  // namespace iotblocks::sql::detail
