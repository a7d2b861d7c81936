// The plugin's plugin_opt_ settings: defaults, every setting, and refusals that name the
// setting (mosquitto then refuses to start).
#include "mosquitto_plugin/options.hpp"
#include "mosquitto_plugin/error.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace iotblocks::mosquitto_plugin {
namespace {

result<plugin_options> parse(std::vector<option> o) { return parse_options(o); }

TEST(Options, DefaultsBesideTheRegistry) {
  auto o = parse({{"registry", "/var/lib/iotblocks/registry.db"}}).value();
  EXPECT_EQ(o.policies_path, "/var/lib/iotblocks/policies.db");
  EXPECT_EQ(o.region, "us-east-1");
  EXPECT_EQ(o.account_id, "000000000000");
  EXPECT_FALSE(o.any_account);
  EXPECT_EQ(o.refresh, std::chrono::milliseconds(1000));
  EXPECT_EQ(o.cache_capacity, 256u);
  EXPECT_EQ(o.log, log_mode::refusals);
  EXPECT_EQ(o.certificate_profile, x509::profile::aws);
  EXPECT_TRUE(o.users_path.empty());  // certificates only
}

TEST(Options, EverySetting) {
  auto o = parse({{"registry", "r.db"},
                  {"policies", "/p/policies.db"},
                  {"region", "eu-west-1"},
                  {"account_id", "123456789012"},
                  {"any_account", "true"},
                  {"certificate_profile", "strict"},
                  {"refresh_ms", "0"},
                  {"cache_size", "64"},
                  {"log", "decisions"},
                  {"users", "/g/users.db"}})
               .value();
  EXPECT_EQ(o.registry_path, "r.db");
  EXPECT_EQ(o.policies_path, "/p/policies.db");
  EXPECT_EQ(o.region, "eu-west-1");
  EXPECT_EQ(o.account_id, "123456789012");
  EXPECT_TRUE(o.any_account);
  EXPECT_EQ(o.certificate_profile, x509::profile::strict);
  EXPECT_EQ(o.refresh, std::chrono::milliseconds(0));
  EXPECT_EQ(o.cache_capacity, 64u);
  EXPECT_EQ(o.log, log_mode::decisions);
  EXPECT_EQ(o.users_path, "/g/users.db");
}

TEST(Options, RefusalsNameTheSetting) {
  struct bad_case {
    std::vector<option> opts;
    error code;
    std::string_view names;
  };
  const std::vector<bad_case> cases = {
      {{}, error::missing_option, "plugin_opt_registry"},
      {{{"policies", "p.db"}}, error::missing_option, "plugin_opt_registry"},
      {{{"registry", ""}}, error::invalid_option, "plugin_opt_registry"},
      {{{"registry", "r.db"}, {"account_id", "12345"}}, error::invalid_option, "account_id"},
      {{{"registry", "r.db"}, {"account_id", "12345678901x"}}, error::invalid_option, "account_id"},
      {{{"registry", "r.db"}, {"any_account", "yes"}}, error::invalid_option, "any_account"},
      {{{"registry", "r.db"}, {"certificate_profile", "lax"}}, error::invalid_option, "profile"},
      {{{"registry", "r.db"}, {"refresh_ms", "-1"}}, error::invalid_option, "refresh_ms"},
      {{{"registry", "r.db"}, {"refresh_ms", "1s"}}, error::invalid_option, "refresh_ms"},
      {{{"registry", "r.db"}, {"refresh_ms", "99999999999999999999"}},
       error::invalid_option,
       "refresh_ms"},
      {{{"registry", "r.db"}, {"cache_size", "1"}}, error::invalid_option, "cache_size"},
      {{{"registry", "r.db"}, {"log", "all"}}, error::invalid_option, "plugin_opt_log"},
      {{{"registry", "r.db"}, {"regsitry", "x"}}, error::unknown_option, "regsitry"},
      {{{"registry", "r.db"}, {"users", ""}}, error::invalid_option, "plugin_opt_users"},
      {{{"registry", "r.db"}, {"users", "postgresql://db/iot"}},
       error::invalid_option,
       "plugin_opt_users"},
  };
  for (const auto& c : cases) {
    auto r = parse(c.opts);
    ASSERT_FALSE(r) << c.names;
    EXPECT_EQ(r.error(), c.code) << r.describe();
    EXPECT_NE(r.describe().find(c.names), std::string::npos) << r.describe();
    EXPECT_STREQ(r.error().category().name(), "iotblocks.mosquitto_plugin");
  }
}

}  // namespace
}  // namespace iotblocks::mosquitto_plugin
