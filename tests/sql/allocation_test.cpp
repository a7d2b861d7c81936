// Allocation behaviour: after warm-up, evaluating allocates nothing when WHERE
// does not match (and nothing for the common matching shapes either). Counts
// operator new in this program; not built under the sanitizers, which replace it.
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/result.hpp>  // IOTBLOCKS_EXCEPTIONS
#include <iotblocks/sql.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // replaced global new/delete below
#endif

namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace

// Counts heap allocations while `counting` is set (this test program only).
void* operator new(std::size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1);
  if (void* p = std::malloc(n ? n : 1)) return p;
#if IOTBLOCKS_EXCEPTIONS
  throw std::bad_alloc();
#else
  std::abort();  // what operator new does in a build without exceptions
#endif
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace iotblocks::sql {
namespace {

const std::string sensor =
    R"({"device":"greenhouse_lux_probe_1","lux":20000,"temperature":21.5,"humidity":48,)"
    R"("battery":3.7,"location":{"site":"north","row":12},"ts":1700000000123})";

message msg_of(const std::string& payload) {
  message m;
  m.topic = "t";
  m.payload = as_bytes(payload);
  return m;
}

std::size_t allocations_of(evaluator& ev, const rule& r, const message& m) {
  (void)ev.evaluate(r, m);  // warm-up
  allocations = 0;
  counting = true;
  for (int i = 0; i < 100; ++i) (void)ev.evaluate(r, m);
  counting = false;
  return allocations.load();
}

TEST(SqlEvaluate, NoAllocationWhenWhereDoesNotMatch) {
  evaluator ev;
  const auto m = msg_of(sensor);
  for (const char* sql : {
           "SELECT * FROM 't' WHERE lux > 35000",
           "SELECT * FROM 't' WHERE location.site = 'south'",
           "SELECT * FROM 't' WHERE lux > 1 AND startswith(device, 'x')",
           "SELECT * FROM 't' WHERE upper(device) = 'X' OR lower(device) = 'y'",
           "SELECT * FROM 't' WHERE CASE location.row WHEN 1 THEN true ELSE false END",
           "SELECT * FROM 't' WHERE get((SELECT VALUE v FROM [{'v': 1}]), 0) = 2",
           "SELECT * FROM 't' WHERE missing > 1",
           "SET @l = lux * 2 SELECT @l FROM 't' WHERE @l > 1000000",
       }) {
    auto r = compile(sql);
    ASSERT_TRUE(r.ok()) << r.describe();
    auto out = ev.evaluate(*r, m);
    ASSERT_TRUE(out.ok());
    EXPECT_FALSE(out->has_value()) << sql;
    EXPECT_EQ(allocations_of(ev, *r, m), 0u) << sql;
  }
}

TEST(SqlEvaluate, NoAllocationForMatchingStarAndProjections) {
  evaluator ev;
  const auto m = msg_of(sensor);
  for (const char* sql :
       {"SELECT * FROM 't' WHERE lux > 100",
        "SELECT device, lux * 2 AS l, location.site AS s FROM 't' WHERE lux > 100",
        "SELECT *, 1 AS one FROM 't'"}) {
    auto r = compile(sql);
    ASSERT_TRUE(r.ok()) << r.describe();
    auto out = ev.evaluate(*r, m);
    ASSERT_TRUE(out.ok() && out->has_value()) << sql;
    EXPECT_EQ(allocations_of(ev, *r, m), 0u) << sql;
  }
}

// The statement and message of sql_benchmark's BM_Projection5Fields2Functions:
// nested paths read in the validating pass, two built-in functions, a flat output.
TEST(SqlEvaluate, NoAllocationForProjectionWithFunctions) {
  const std::string payload =
      R"({"device":"greenhouse_lux_probe_1","lux":36250,"sensors":{"temp":21.5,"hum":48},)"
      R"("location":{"site":"north","row":12},"battery":3.7,"ts":1700000000123})";
  auto r = compile(
      "SELECT sensors.temp AS temp, sensors.hum AS hum, location.site AS site, location.row AS "
      "row, battery, upper(device) AS dev, round(sensors.temp) AS t FROM 't'");
  ASSERT_TRUE(r.ok()) << r.describe();
  evaluator ev;
  const auto m = msg_of(payload);
  auto out = ev.evaluate(*r, m);
  ASSERT_TRUE(out.ok() && out->has_value());
  EXPECT_EQ(**out, R"({"temp":21.5,"hum":48,"site":"north","row":12,"battery":3.7,)"
                   R"("dev":"GREENHOUSE_LUX_PROBE_1","t":22})");
  EXPECT_EQ(allocations_of(ev, *r, m), 0u);
}

}  // namespace
}  // namespace iotblocks::sql
