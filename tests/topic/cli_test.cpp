// `iotblocks topic match` and `topic validate` end to end: the real binary on
// the files under tests/data/topic/.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

namespace {

struct output {
  std::string text;
  int status;
};

output run(const std::string& args) {
  const std::string cmd = std::string{IOTBLOCKS_CLI_PATH} + " " + args;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {"", -1};
  std::string text;
  std::array<char, 4096> buf;
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;)
    text.append(buf.data(), n);
  const int status = ::pclose(p);
  return {text, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

std::string slurp(const char* path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(TopicCli, MatchPrintsFiltersPerTopic) {
  const auto out = run(
      "topic match --filters tests/data/topic/cli_filters.txt < tests/data/topic/cli_topics.txt "
      "2>/dev/null");
  EXPECT_EQ(out.text, slurp("tests/data/topic/cli_expected.jsonl"));
  EXPECT_EQ(out.status, 3);  // "sport/+" is not a topic name
}

TEST(TopicCli, MatchRejectsABadFilterFile) {
  const auto out =
      run("topic match --filters tests/data/topic/cli_bad_filters.txt </dev/null 2>&1");
  EXPECT_EQ(out.status, 3);
  EXPECT_NE(out.text.find("cli_bad_filters.txt:2"), std::string::npos) << out.text;
}

TEST(TopicCli, Validate) {
  const auto out = run("topic validate --filter < tests/data/topic/cli_filters.txt");
  EXPECT_EQ(out.status, 0) << out.text;
  EXPECT_NE(out.text.find(R"({"filter":"$share/workers/sport/tennis/player1","valid":true,)"
                          R"("group":"workers","shared_filter":"sport/tennis/player1"})"),
            std::string::npos)
      << out.text;
  const auto names = run("topic validate < tests/data/topic/cli_filters.txt 2>/dev/null");
  EXPECT_EQ(names.status, 3);
}

}  // namespace
