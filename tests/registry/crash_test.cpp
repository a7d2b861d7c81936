// Durability: a child process writes to the registry in a loop and reports
// each acknowledged change through a pipe; the parent kills it with SIGKILL
// at a random point (usually inside a commit), reopens the store and checks
// that every acknowledged change is there and the database is consistent.
#include "registry/fixture.hpp"

#include "core/sqlite.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <map>
#include <random>
#include <set>

namespace iotblocks::registry::test {
namespace {

constexpr int rounds = 6;
constexpr int devices_per_round = 6;

struct acks {
  std::set<int> things;                 ///< created things t<i>
  int counter = -1;                     ///< last acknowledged value of thing "counter"
  std::set<std::string> registrations;  ///< certificate ids registered just in time
};

// The child: never returns.
[[noreturn]] void writer(const std::string& path, const manual_clock& clock, int fd, int start,
                         const std::vector<issued>& devices, const std::string& toggle_id) {
  auto opened = registry::open(path, {.clock = &clock});
  if (!opened) _exit(2);
  registry& reg = *opened;
  std::size_t next_device = 0;
  for (int i = start;; ++i) {
    char line[160];
    int n = 0;
    switch (i % 3) {
      case 0:
        if (!reg.create_thing(
                {.name = "t" + std::to_string(i), .attributes = {{"n", std::to_string(i)}}})) {
          _exit(3);
        }
        n = std::snprintf(line, sizeof line, "T %d\n", i);
        break;
      case 1:
        if (!reg.update_thing({.name = "counter", .attributes = {{"n", std::to_string(i)}}}) ||
            !reg.update_certificate(toggle_id, (i / 3) % 2 ? certificate_status::active
                                                           : certificate_status::inactive)) {
          _exit(4);
        }
        n = std::snprintf(line, sizeof line, "C %d\n", i);
        break;
      default: {
        if (next_device == devices.size()) continue;
        const issued& dev = devices[next_device++];
        const std::vector<bytes_view> chain{dev.cert.der()};
        if (reg.authenticate(chain).reason != error::pending_activation) _exit(5);
        n = std::snprintf(line, sizeof line, "R %s\n", dev.cert.id().c_str());
        break;
      }
    }
    if (::write(fd, line, static_cast<std::size_t>(n)) != n) _exit(6);
  }
}

void read_acks(FILE* in, acks& out) {
  char line[160];
  while (std::fgets(line, sizeof line, in) != nullptr) {
    if (line[0] == 'T') out.things.insert(std::atoi(line + 2));
    if (line[0] == 'C') out.counter = std::max(out.counter, std::atoi(line + 2));
    if (line[0] == 'R') out.registrations.insert(std::string(line + 2, 64));
  }
}

TEST_F(RegistryTest, KilledWriterLosesNoAcknowledgedChange) {
  const issued ca = make_ca("Acme CA");
  std::vector<issued> devices;
  for (int i = 0; i < rounds * devices_per_round; ++i) {
    devices.push_back(make_device("dev-" + std::to_string(i), ca));
  }
  const issued toggle = make_device("toggle", ca);
  {
    auto reg = open();
    register_ca(reg, ca, {.active = true, .auto_registration = true});
    reg.register_certificate(toggle.cert.pem(), certificate_status::active).value();
    reg.create_thing({.name = "counter", .attributes = {{"n", "-1"}}}).value();
  }
  std::mt19937 rng(static_cast<unsigned>(::testing::UnitTest::GetInstance()->random_seed()));
  acks acked;
  for (int round = 0; round < rounds; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    const std::vector<issued> slice(devices.begin() + round * devices_per_round,
                                    devices.begin() + (round + 1) * devices_per_round);
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::close(fds[0]);
      writer(path(), clock_, fds[1], round * 100000, slice, toggle.cert.id());
    }
    ::close(fds[1]);
    FILE* in = ::fdopen(fds[0], "r");
    // Let it acknowledge a random number of changes, wait a random moment, kill it.
    const int wait_for = std::uniform_int_distribution<int>(1, 20)(rng);
    char line[160];
    for (int seen = 0; seen < wait_for && std::fgets(line, sizeof line, in) != nullptr; ++seen) {
      if (line[0] == 'T') acked.things.insert(std::atoi(line + 2));
      if (line[0] == 'C') acked.counter = std::max(acked.counter, std::atoi(line + 2));
      if (line[0] == 'R') acked.registrations.insert(std::string(line + 2, 64));
    }
    ::usleep(std::uniform_int_distribution<unsigned>(0, 3000)(rng));
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status))
        << "the writer stopped by itself: exit " << WEXITSTATUS(status);
    read_acks(in, acked);  // acknowledged before it died
    std::fclose(in);

    // The database is consistent …
    {
      auto db = sqlite::database::open(path()).value();
      auto check = db.prepare("PRAGMA integrity_check").value();
      ASSERT_TRUE(check.step().value());
      EXPECT_EQ(check.column_text(0), "ok");
      auto fk = db.prepare("PRAGMA foreign_key_check").value();
      EXPECT_FALSE(fk.step().value());
    }
    // … and holds every acknowledged change.
    auto reg = open();
    for (int i : acked.things) {
      auto t = reg.describe_thing("t" + std::to_string(i));
      ASSERT_TRUE(t) << "lost acknowledged thing t" << i << " in round " << round;
      EXPECT_EQ(t->attributes.at("n"), std::to_string(i));
    }
    for (const auto& id : acked.registrations) {
      auto rec = reg.find_certificate(id);
      ASSERT_TRUE(rec) << "lost acknowledged registration " << id;
      EXPECT_EQ(rec->status, certificate_status::pending_activation);
    }
    // The counter holds the last acknowledged value or the one after it (committed,
    // killed before the acknowledgement), never an older one.
    const int counter = std::stoi(reg.describe_thing("counter").value().attributes.at("n"));
    if (acked.counter >= round * 100000) {
      EXPECT_TRUE(counter == acked.counter || counter == acked.counter + 3)
          << counter << " vs acknowledged " << acked.counter;
    }
    for (const auto& t : reg.list_things()) {
      if (t.name == "counter") continue;
      EXPECT_EQ(t.attributes.at("n"), t.name.substr(1));  // no torn rows
    }
    acked.counter = counter;  // the next round continues from what is stored
  }
  EXPECT_GT(acked.things.size() + acked.registrations.size(), static_cast<std::size_t>(rounds));
}

}  // namespace
}  // namespace iotblocks::registry::test
