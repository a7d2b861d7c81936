#include <iotblocks/core/clock.hpp>
#include <iotblocks/core/error.hpp>
#include <iotblocks/shadow.hpp>

#include "core/json.hpp"

#include <gtest/gtest.h>

#include "shadow/clock.hpp"

#include <string>
#include <vector>

namespace iotblocks::shadow {
namespace {

using iotblocks::shadow::testing::t0;

struct fixture {
  manual_clock clock{from_unix_ms(t0 * 1000)};
  memory_store store;
  service svc{store, clock};
  router r{svc};
};

std::string field(const std::string& json, std::string_view key) {
  auto doc = json::parse(json);
  if (!doc) return "<bad json>";
  const auto* v = json::find(*doc, key);
  return v == nullptr ? "<none>" : json::write(*v);
}

std::vector<std::string> topics(const std::vector<message>& msgs) {
  std::vector<std::string> out;
  for (const auto& m : msgs) out.push_back(m.topic);
  return out;
}

TEST(Topic, ParsesRequestTopicsOnly) {
  auto t = parse_topic("$aws/things/lamp/shadow/update");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->thing, "lamp");
  EXPECT_EQ(t->name, "");
  EXPECT_FALSE(t->named);
  EXPECT_EQ(t->op, operation::update);
  t = parse_topic("$aws/things/lamp/shadow/name/cfg/delete");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->name, "cfg");
  EXPECT_TRUE(t->named);
  EXPECT_EQ(t->op, operation::remove);
  for (std::string_view not_request :
       {"$aws/things/lamp/shadow/update/accepted", "$aws/things/lamp/shadow/get/rejected",
        "$aws/things/lamp/shadow/name/cfg", "$aws/things/lamp/shadow", "$aws/things/lamp",
        "$aws/things/lamp/shadows/get", "things/lamp/shadow/get", "$aws/things/lamp/shadow/list",
        "$aws/things/lamp/shadow/name/a/b/get", ""}) {
    EXPECT_EQ(parse_topic(not_request).error(), error::not_a_shadow_topic) << not_request;
  }
  EXPECT_EQ(topic_prefix("a", ""), "$aws/things/a/shadow");
  EXPECT_EQ(topic_prefix("a", "b"), "$aws/things/a/shadow/name/b");
}

TEST(Router, LeavesOtherTopicsAlone) {
  fixture f;
  EXPECT_FALSE(f.r.route("sensors/1", "{}").has_value());
  EXPECT_FALSE(f.r.route("$aws/things/lamp/shadow/update/accepted", "{}").has_value());
  bool called = false;
  EXPECT_FALSE(f.r.route_async("a/b", "", {}, [&](auto) { called = true; }));
  EXPECT_FALSE(called);
}

TEST(Router, PublishFilterSkipsPayloadsNobodyReceives) {
  fixture f;
  std::vector<std::string> asked;
  f.r.publish_filter([&](std::string_view topic) {
    asked.emplace_back(topic);
    return topic.ends_with("/delta");
  });
  auto out = f.r.route("$aws/things/lamp/shadow/update", R"({"state":{"desired":{"on":true}}})");
  ASSERT_TRUE(out);
  EXPECT_EQ(topics(*out), std::vector<std::string>{"$aws/things/lamp/shadow/update/delta"});
  EXPECT_EQ(asked, (std::vector<std::string>{"$aws/things/lamp/shadow/update/accepted",
                                             "$aws/things/lamp/shadow/update/rejected",
                                             "$aws/things/lamp/shadow/update/delta",
                                             "$aws/things/lamp/shadow/update/documents"}));
  // Nobody listens to rejections: nothing is published, the request still fails.
  out = f.r.route("$aws/things/lamp/shadow/update", "{");
  ASSERT_TRUE(out);
  EXPECT_TRUE(out->empty());
}

TEST(Service, AuthorizerRefusesWith401Or403) {
  fixture f;
  std::vector<std::string> seen;
  f.svc.authorize_with([&](const access_request& a) {
    seen.push_back(std::string(a.context.principal) + ":" + a.key.thing);
    if (a.key.thing == "secret") return 403;
    if (a.context.principal.empty()) return 401;
    return 0;
  });
  auto out = f.svc.update({"lamp", ""}, R"({"state":{},"clientToken":"k"})");
  EXPECT_EQ(out.status, 401);
  EXPECT_EQ(out.error, error::unauthorized);
  EXPECT_EQ(field(out.body, "message"), "\"Unauthorized\"");
  EXPECT_EQ(field(out.body, "clientToken"), "\"k\"");
  out = f.svc.get({"secret", ""}, "", {.connection = "c", .principal = "alice"});
  EXPECT_EQ(out.status, 403);
  EXPECT_EQ(field(out.body, "message"), "\"Forbidden\"");
  out = f.svc.update({"lamp", ""}, R"({"state":{}})", {.principal = "alice"});
  EXPECT_EQ(out.status, 200);
  EXPECT_EQ(seen, (std::vector<std::string>{":lamp", "alice:secret", "alice:lamp"}));
  auto msgs = f.r.route("$aws/things/secret/shadow/delete", "", {.principal = "bob"});
  ASSERT_TRUE(msgs);
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ((*msgs)[0].topic, "$aws/things/secret/shadow/delete/rejected");
  EXPECT_EQ(field((*msgs)[0].payload, "code"), "403");
}

TEST(Service, ThingNotFoundHook) {
  fixture f;
  f.svc.thing_exists([](std::string_view thing) { return thing == "known"; });
  auto out = f.svc.update({"ghost", ""}, R"({"state":{}})");
  EXPECT_EQ(out.status, 404);
  EXPECT_EQ(field(out.body, "message"), "\"Thing not found\"");
  EXPECT_EQ(f.svc.update({"known", ""}, R"({"state":{}})").status, 200);
}

// A store whose every write fails, as a full disk would.
class failing_store final : public store {
 public:
  std::error_code modify(const shadow_key&, edit) override {
    return std::make_error_code(std::errc::no_space_on_device);
  }
  std::error_code read(const shadow_key&, function_ref<void(const document&)>) override {
    return std::make_error_code(std::errc::io_error);
  }
};

TEST(Service, StoreFailureIs500) {
  failing_store st;
  manual_clock clock{from_unix_ms(t0 * 1000)};
  service svc{st, clock};
  auto out = svc.update({"lamp", ""}, R"({"state":{"reported":{"a":1}},"clientToken":"z"})");
  EXPECT_EQ(out.status, 500);
  EXPECT_EQ(field(out.body, "message"), "\"Internal service failure\"");
  EXPECT_EQ(field(out.body, "clientToken"), "\"z\"");
  EXPECT_EQ(svc.get({"lamp", ""}).status, 500);
  EXPECT_EQ(svc.remove({"lamp", ""}).status, 500);
  router r{svc};
  bool done = false;
  EXPECT_TRUE(r.route_async("$aws/things/lamp/shadow/update", R"({"state":{}})", {},
                            [&](std::vector<message> msgs) {
                              ASSERT_EQ(msgs.size(), 1u);
                              EXPECT_EQ(msgs[0].topic, "$aws/things/lamp/shadow/update/rejected");
                              EXPECT_EQ(field(msgs[0].payload, "code"), "500");
                              done = true;
                            }));
  EXPECT_TRUE(done);
}

// Holds every change until released, like a store waiting for a group COMMIT.
class slow_store final : public store {
 public:
  std::error_code modify(const shadow_key& k, edit fn) override { return inner.modify(k, fn); }
  void modify_async(const shadow_key& k, edit fn, done on_done) override {
    (void)inner.modify(k, fn);
    waiting.push_back(std::move(on_done));
  }
  std::error_code read(const shadow_key& k, function_ref<void(const document&)> fn) override {
    return inner.read(k, fn);
  }
  void release() {
    auto all = std::move(waiting);
    waiting.clear();
    for (auto& d : all) d({});
  }
  memory_store inner;
  std::vector<done> waiting;
};

TEST(Router, InFlightLimitPerConnectionIs429) {
  slow_store st;
  manual_clock clock{from_unix_ms(t0 * 1000)};
  service svc{st, clock, limits{}.max_in_flight(2)};
  router r{svc};
  std::vector<std::vector<message>> results;
  auto collect = [&](std::vector<message> m) { results.push_back(std::move(m)); };
  const std::string topic = "$aws/things/lamp/shadow/update";
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        r.route_async(topic, R"({"state":{"reported":{"n":1}}})", {.connection = "dev"}, collect));
  }
  ASSERT_TRUE(r.route_async(topic, R"({"state":{}})", {.connection = "other"}, collect));
  ASSERT_EQ(results.size(), 1u);  // the third of "dev" was refused at once
  ASSERT_EQ(results[0].size(), 1u);
  EXPECT_EQ(results[0][0].topic, topic + "/rejected");
  EXPECT_EQ(field(results[0][0].payload, "code"), "429");
  EXPECT_EQ(field(results[0][0].payload, "message"), "\"Too many requests\"");
  st.release();  // commits: the accepted messages go out, the slots free up
  EXPECT_EQ(results.size(), 4u);
  EXPECT_EQ(results[1][0].topic, topic + "/accepted");
  ASSERT_TRUE(r.route_async(topic, R"({"state":{}})", {.connection = "dev"}, collect));
  st.release();
  EXPECT_EQ(results.size(), 5u);
  EXPECT_EQ(results[4][0].topic, topic + "/accepted");
  EXPECT_EQ(field(results[4][0].payload, "version"), "4");
}

TEST(Http, GetPostDeleteOfAShadow) {
  fixture f;
  auto h = f.r.http("GET", "/things/lamp/shadow", "");
  EXPECT_EQ(h.status, 404);
  EXPECT_EQ(field(h.body, "message"), "\"No shadow exists with name: 'lamp'\"");
  EXPECT_TRUE(h.publish.empty());

  h = f.r.http("POST", "/things/lamp/shadow?name=cfg",
               R"({"state":{"desired":{"on":true}},"clientToken":"h1"})");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(field(h.body, "version"), "1");
  EXPECT_EQ(topics(h.publish),
            (std::vector<std::string>{"$aws/things/lamp/shadow/name/cfg/update/accepted",
                                      "$aws/things/lamp/shadow/name/cfg/update/delta",
                                      "$aws/things/lamp/shadow/name/cfg/update/documents"}));
  EXPECT_EQ(h.publish[0].payload, h.body);

  h = f.r.http("GET", "/things/lamp/shadow?x=1&name=cfg", "");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(field(h.body, "state"), R"({"desired":{"on":true},"delta":{"on":true}})");

  h = f.r.http("POST", "/things/lamp/shadow?name=cfg",
               R"({"state":{"desired":{"on":true}},"version":7})");
  EXPECT_EQ(h.status, 409);
  EXPECT_TRUE(h.publish.empty());  // REST rejections publish nothing

  h = f.r.http("DELETE", "/things/lamp/shadow?name=c%66g", "");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, R"({"version":1,"timestamp":1700000000})");
  EXPECT_EQ(topics(h.publish),
            std::vector<std::string>{"$aws/things/lamp/shadow/name/cfg/delete/accepted"});

  EXPECT_EQ(f.r.http("PUT", "/things/lamp/shadow", "{}").status, 405);
  EXPECT_EQ(f.r.http("GET", "/things/lamp", "").status, 404);
  EXPECT_EQ(f.r.http("GET", "/things//shadow", "").status, 400);
  EXPECT_EQ(f.r.http("GET", "/things/a%2Fb/shadow", "").status, 400);
  EXPECT_EQ(f.r.http("GET", "/things/lamp/shadow?name=", "").status, 400);
  EXPECT_EQ(f.r.http("GET", "/things/lamp/shadow?name=%zz", "").status, 400);
  EXPECT_EQ(f.r.http("GET", "/things/lamp/shadow?name=%4", "").status, 400);
}

TEST(Document, ParseRejectsWhatNoShadowHolds) {
  EXPECT_EQ(document::parse("[]").error(), error::invalid_json);
  EXPECT_EQ(document::parse(R"({"state":[]})").error(), error::state_not_object);
  EXPECT_EQ(document::parse(R"({"state":{"desired":1}})").error(), error::desired_not_object);
  EXPECT_EQ(document::parse(R"({"state":{"reported":"x"}})").error(), error::reported_not_object);
  EXPECT_EQ(document::parse(R"({"state":{"other":{}}})").error(), error::invalid_state_node);
  EXPECT_EQ(document::parse(R"({"state":{"desired":{"a":null}}})").error(), error::invalid_json);
  EXPECT_EQ(document::parse(R"({"state":{},"version":-2})").error(), error::invalid_version);
  EXPECT_EQ(document::parse("{").error(), core::error::invalid_json);
  EXPECT_FALSE(document::parse("null")->exists());
  EXPECT_FALSE(document::parse("{}")->exists());
  auto d = document::parse(R"({"state":{"reported":{"a":[1,2]}},"timestamp":77})");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->exists());
  EXPECT_EQ(d->version(), 1);
  EXPECT_EQ(
      d->to_storage(),
      R"({"state":{"reported":{"a":[1,2]}},"metadata":{"reported":{"a":[{"timestamp":77},{"timestamp":77}]}},"version":1})");
  auto t = document::parse(d->to_storage());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->to_storage(), d->to_storage());
  auto tomb = document::parse(R"({"version":9,"deletedAt":100})");
  ASSERT_TRUE(tomb);
  EXPECT_FALSE(tomb->exists());
  EXPECT_EQ(tomb->deleted_at(), 100);
  EXPECT_EQ(tomb->to_storage(), R"({"version":9,"deletedAt":100})");
}

TEST(Document, ClientTokenOf) {
  EXPECT_EQ(client_token_of(R"({"clientToken":"abc"})"), "abc");
  EXPECT_EQ(client_token_of(R"({"clientToken":5})"), "");
  EXPECT_EQ(client_token_of("not json"), "");
  EXPECT_EQ(client_token_of(""), "");
}

TEST(Errors, StatusAndMessages) {
  EXPECT_EQ(http_status(error::invalid_json), 400);
  EXPECT_EQ(http_status(error::too_deep), 400);
  EXPECT_EQ(http_status(error::unauthorized), 401);
  EXPECT_EQ(http_status(error::forbidden), 403);
  EXPECT_EQ(http_status(error::shadow_not_found), 404);
  EXPECT_EQ(http_status(error::version_conflict), 409);
  EXPECT_EQ(http_status(error::payload_too_large), 413);
  EXPECT_EQ(http_status(error::unsupported_encoding), 415);
  EXPECT_EQ(http_status(error::too_many_requests), 429);
  EXPECT_EQ(http_status(error::internal_failure), 500);
  EXPECT_EQ(http_status({}), 200);
  EXPECT_EQ(http_status(std::make_error_code(std::errc::io_error)), 500);
  std::error_code ec = error::version_conflict;
  EXPECT_STREQ(ec.category().name(), "iotblocks.shadow");
  EXPECT_EQ(ec.message(), "Version conflict");
}

}  // namespace
}  // namespace iotblocks::shadow
