// Batches: the writes of one thread between begin_batch() and commit_batch() are one
// transaction of the store: other connections see none of them before the commit, all after;
// a failed write inside still changes nothing, and a rolled-back batch leaves nothing, in the
// file or in memory. The same for thing groups.
#include "registry/fixture.hpp"

#include <iotblocks/registry/thing_groups.hpp>

#include "sqlite/database.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace iotblocks::registry::test {
namespace {

std::int64_t rows(const std::string& path, const char* table) {
  auto db = sqlite::database::open(path, {.read_only = true}).value();
  auto q = db.prepare(std::string("SELECT count(*) FROM ") + table).value();
  EXPECT_TRUE(q.step().value());
  return q.column_int64(0);
}

TEST_F(RegistryTest, BatchIsOneTransaction) {
  auto reg = open();
  const issued ca = make_ca("Acme CA");
  register_ca(reg, ca, {.active = true});
  const issued dev = make_device("dev", ca);
  ASSERT_TRUE(reg.begin_batch());
  const auto id = reg.register_certificate(dev.cert.pem(), certificate_status::inactive).value();
  reg.create_thing({.name = "lamp-1"}).value();
  reg.attach_thing("lamp-1", id).value();
  EXPECT_EQ(reg.create_thing({.name = "lamp-1"}).error(), error::already_exists);
  reg.update_certificate(id, certificate_status::active).value();
  // In memory at once; in the file for nobody else yet.
  EXPECT_EQ(reg.find_certificate(id)->status, certificate_status::active);
  EXPECT_EQ(rows(path(), "things"), 0);
  EXPECT_EQ(rows(path(), "certificates"), 0);
  ASSERT_TRUE(reg.commit_batch());
  EXPECT_EQ(rows(path(), "things"), 1);
  EXPECT_EQ(rows(path(), "thing_principals"), 1);
  auto again = registry::open(path()).value();
  EXPECT_EQ(again.find_certificate(id)->status, certificate_status::active);
  EXPECT_EQ(again.list_thing_principals("lamp-1").value(), std::vector<std::string>{id});
}

TEST_F(RegistryTest, RolledBackBatchLeavesNothing) {
  auto reg = open();
  reg.create_thing({.name = "before"}).value();
  ASSERT_TRUE(reg.begin_batch());
  reg.create_thing({.name = "lamp-1"}).value();
  reg.delete_thing("before").value();
  reg.rollback_batch();
  EXPECT_TRUE(reg.describe_thing("before"));
  EXPECT_EQ(reg.describe_thing("lamp-1").error(), error::not_found);
  EXPECT_EQ(rows(path(), "things"), 1);
}

TEST_F(RegistryTest, OtherThreadsWriteAfterTheBatch) {
  auto reg = open();
  ASSERT_TRUE(reg.begin_batch());
  reg.create_thing({.name = "in-batch"}).value();
  std::atomic<bool> written{false};
  std::thread other([&] {
    reg.create_thing({.name = "other"}).value();  // waits for the batch
    written = true;
  });
  // The other thread is held at the batch's gate; reads go on meanwhile.
  EXPECT_TRUE(reg.describe_thing("in-batch"));
  EXPECT_FALSE(written);
  reg.rollback_batch();  // the other write must not have joined (and been dropped with) it
  other.join();
  EXPECT_TRUE(written);
  EXPECT_EQ(reg.describe_thing("in-batch").error(), error::not_found);
  EXPECT_TRUE(reg.describe_thing("other"));
  EXPECT_EQ(rows(path(), "things"), 1);
}

TEST_F(RegistryTest, ThingGroupsBatch) {
  const std::string file = (std::filesystem::path(path()).parent_path() / "groups.db").string();
  auto g = thing_groups::open(file).value();
  ASSERT_TRUE(g->create({.name = "lamps"}));
  ASSERT_TRUE(g->begin_batch());
  ASSERT_TRUE(g->add_thing("lamps", "lamp-1"));
  EXPECT_EQ(g->add_thing("nope", "lamp-1").error(), error::not_found);
  EXPECT_EQ(rows(file, "thing_group_members"), 0);
  ASSERT_TRUE(g->commit_batch());
  EXPECT_EQ(rows(file, "thing_group_members"), 1);
  ASSERT_TRUE(g->begin_batch());
  ASSERT_TRUE(g->add_thing("lamps", "lamp-2"));
  g->rollback_batch();
  EXPECT_EQ(g->things_in("lamps"), std::vector<std::string>{"lamp-1"});
  g.reset();
  EXPECT_EQ(thing_groups::open(file).value()->things_in("lamps"),
            std::vector<std::string>{"lamp-1"});
}

}  // namespace
}  // namespace iotblocks::registry::test
