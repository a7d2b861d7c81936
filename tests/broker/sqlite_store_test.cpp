// sqlite_store on a real file: retained messages keep their last-modified time
// across a reopen, and a file from before that column is upgraded in place.
#include <iotblocks/broker/sqlite_store.hpp>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>

namespace iotblocks::broker {
namespace {

struct temp_dir {
  std::filesystem::path path;
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "broker-store-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~temp_dir() { std::filesystem::remove_all(path); }
};

void wait_for_commit(store& s) {
  std::promise<bool> done;
  s.after_commit([&](bool ok) { done.set_value(ok); });
  ASSERT_TRUE(done.get_future().get());
}

TEST(SqliteBrokerStore, RetainedMessagesKeepTheirLastModifiedTimeAcrossAReopen) {
  temp_dir dir;
  const auto file = (dir.path / "broker.db").string();
  {
    auto s = sqlite_store::open(file).value();
    (void)s->load().value();
    s->start();
    message m;
    m.topic = "site/1/state";
    m.payload = to_buffer(as_bytes(std::string_view{"on"}));
    m.qos = 1;
    m.retain = true;
    m.received_ms = 1'733'500'000'123;
    s->put_retained(std::make_shared<const message>(std::move(m)));
    wait_for_commit(*s);
  }
  auto s = sqlite_store::open(file).value();
  const auto state = s->load().value();
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_EQ(state.retained[0]->topic, "site/1/state");
  EXPECT_EQ(state.retained[0]->received_ms, 1'733'500'000'123);
  EXPECT_EQ(state.retained[0]->qos, 1);
}

TEST(SqliteBrokerStore, AFileWithoutTheRetainedTimeColumnIsUpgraded) {
  temp_dir dir;
  const auto file = (dir.path / "old.db").string();
  // The retained table as the first release of the schema made it.
  const std::string make_old =
      "sqlite3 '" + file +
      "' \"CREATE TABLE retained(topic TEXT PRIMARY KEY, payload BLOB, properties BLOB, "
      "qos INTEGER NOT NULL, publisher TEXT NOT NULL); "
      "INSERT INTO retained VALUES('old/topic', X'6869', NULL, 0, 'dev');\"";
  ASSERT_EQ(std::system(make_old.c_str()), 0);
  auto s = sqlite_store::open(file).value();
  const auto state = s->load().value();
  ASSERT_EQ(state.retained.size(), 1u);
  EXPECT_EQ(state.retained[0]->topic, "old/topic");
  EXPECT_EQ(std::string(as_string_view(state.retained[0]->payload)), "hi");
  EXPECT_EQ(state.retained[0]->received_ms, 0);
}

}  // namespace
}  // namespace iotblocks::broker
