// The event configuration store: every type off at first, updates durable and kept across a
// reopen, the creation date fixed and the modification date moving.
#include "gateway/event_config.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include <unistd.h>

namespace iotblocks::gateway {
namespace {

TEST(EventConfigStore, OffByDefaultAndKeptAcrossReopen) {
  const auto path = (std::filesystem::temp_directory_path() /
                     ("iotblocks-events-" + std::to_string(::getpid()) + ".db"))
                        .string();
  std::filesystem::remove(path);
  {
    auto s = event_config_store::open(path, 1000).value();
    const auto c = s->get();
    EXPECT_EQ(c.enabled.size(), event_types.size());
    for (const auto& [type, on] : c.enabled) EXPECT_FALSE(on) << type;
    EXPECT_EQ(c.created_ms, 1000);
    EXPECT_FALSE(s->enabled("THING"));
    s->update({{"THING", true}, {"JOB", true}}, 2000).value();
    s->update({{"JOB", false}}, 3000).value();
    EXPECT_TRUE(s->enabled("THING"));
    EXPECT_FALSE(s->enabled("JOB"));
    EXPECT_FALSE(s->enabled("NOT_A_TYPE"));
  }
  auto s = event_config_store::open(path, 9000).value();
  const auto c = s->get();
  EXPECT_TRUE(s->enabled("THING"));
  EXPECT_FALSE(s->enabled("JOB"));
  EXPECT_FALSE(c.enabled.at("THING_GROUP"));
  EXPECT_EQ(c.created_ms, 1000);
  EXPECT_EQ(c.modified_ms, 3000);
  EXPECT_TRUE(known_event_type("CA_CERTIFICATE"));
  EXPECT_FALSE(known_event_type("thing"));
  for (const char* s2 : {"", "-wal", "-shm"}) std::filesystem::remove(path + s2);
}

}  // namespace
}  // namespace iotblocks::gateway

namespace iotblocks::gateway {
namespace {

std::optional<std::string> read(std::string_view text,
                                std::map<std::string, bool, std::less<>>& out) {
  auto doc = json::parse(text);
  EXPECT_TRUE(doc) << text;
  return read_event_configurations(*doc, out);
}

TEST(EventConfigStore, ReaderNamesTheField) {
  std::map<std::string, bool, std::less<>> out;
  EXPECT_EQ(read(R"({"eventConfigurations":{"THING":{"Enabled":true},"JOB":{}}})", out),
            std::nullopt);
  EXPECT_EQ(out, (std::map<std::string, bool, std::less<>>{{"THING", true}}));
  EXPECT_TRUE(read(R"({"eventConfigurations":{"THINGS":{"Enabled":true}}})", out)
                  ->starts_with("eventConfigurations.THINGS: not an event type (THING, "));
  EXPECT_EQ(read(R"({"eventConfigurations":{"THING":{"Enabled":1}}})", out),
            "eventConfigurations.THING.Enabled: expected a boolean");
  EXPECT_EQ(read(R"({"eventConfigurations":{"THING":{"enabled":true}}})", out),
            "eventConfigurations.THING.enabled: unknown member");
  EXPECT_EQ(read(R"({"eventConfigurations":[]})", out), "eventConfigurations: expected a map");
  EXPECT_EQ(read(R"({"other":1})", out), "other: unknown member");
}

}  // namespace
}  // namespace iotblocks::gateway
