// The gateway's additions to the rules engine: the `iot_registry` action (what
// a JITR Lambda does on AWS: activate the certificate, attach policies, create
// and attach a thing) and the `get_thing_shadow` SQL function.
#include <iotblocks/core/error.hpp>
#include <iotblocks/rules/error.hpp>

#include "core/json.hpp"
#include "gateway/security.hpp"

namespace iotblocks::gateway {
namespace {

failure invalid(std::string message) {
  return failure{rules::error::invalid_action, std::move(message), {}};
}

/// {"iot_registry": {"certificateId": "${certificateId}", "status": "ACTIVE",
///   "attachPolicy": "Greenhouse" | [...], "thingName": "${...}", "thingFromCommonName": false}}
class registry_action final : public rules::action {
 public:
  registry_action(security& sec, std::string certificate, std::string thing, bool from_cn,
                  registry::certificate_status status, std::vector<std::string> policies)
      : sec_(sec),
        certificate_(std::move(certificate)),
        thing_(std::move(thing)),
        from_cn_(from_cn),
        status_(status),
        policies_(std::move(policies)) {}

  std::vector<std::string> templates() const override {
    std::vector<std::string> t{certificate_};
    if (!thing_.empty()) t.push_back(thing_);
    return t;
  }
  std::string resource() const override { return "registry"; }

  rules::action_status execute(const rules::action_input& in) override {
    auto* reg = sec_.reg();
    const std::string id = in.values.empty() ? std::string{} : in.values[0];
    auto fail = [&](std::error_code ec, const std::string& what) {
      return rules::action_status::fail(ec, "certificate " + id + ": " + what);
    };
    auto rec = reg->describe_certificate(id);
    if (!rec) return fail(rec.error(), rec.describe());
    std::string thing = in.values.size() > 1 ? in.values[1] : std::string{};
    if (from_cn_) thing = std::string((*rec)->certificate.common_name());
    for (const auto& p : policies_) {
      if (auto ok = sec_.policies().attach_policy(p, id); !ok) {
        return fail(ok.error(), "attach " + p + ": " + ok.describe());
      }
    }
    if (!thing.empty()) {
      if (!reg->describe_thing(thing)) {
        registry::thing t;
        t.name = thing;
        if (auto ok = reg->create_thing(t); !ok && ok.error() != registry::error::already_exists) {
          return fail(ok.error(), "thing " + thing + ": " + ok.describe());
        }
      }
      bool attached = false;
      for (const auto& t : (*rec)->things) attached |= t.name == thing;
      if (!attached) {
        if (auto ok = reg->attach_thing(thing, id); !ok) {
          return fail(ok.error(), "attach thing " + thing + ": " + ok.describe());
        }
      }
    }
    if ((*rec)->status != status_) {
      if (auto ok = reg->update_certificate(id, status_); !ok)
        return fail(ok.error(), ok.describe());
    }
    sec_.changed();
    return {};
  }

 private:
  security& sec_;
  std::string certificate_, thing_;
  bool from_cn_;
  registry::certificate_status status_;
  std::vector<std::string> policies_;
};

}  // namespace

void security::add_rule_actions(rules::engine& e) {
  e.register_action(
      "iot_registry", [this](std::string_view params) -> result<std::unique_ptr<rules::action>> {
        auto doc = json::parse(params);
        if (!doc) return std::move(doc).take_failure();
        if (!doc->IsObject()) return invalid("iot_registry: expected an object");
        std::string certificate, thing;
        bool from_cn = false;
        auto status = registry::certificate_status::active;
        std::vector<std::string> policies;
        for (auto it = doc->MemberBegin(); it != doc->MemberEnd(); ++it) {
          const auto key = json::view(it->name);
          const auto& v = it->value;
          if (key == "certificateId" && v.IsString()) {
            certificate = std::string(json::view(v));
          } else if (key == "thingName" && v.IsString()) {
            thing = std::string(json::view(v));
          } else if (key == "thingFromCommonName" && v.IsBool()) {
            from_cn = v.GetBool();
          } else if (key == "status" && v.IsString()) {
            auto s = registry::parse_certificate_status(json::view(v));
            if (!s || *s == registry::certificate_status::pending_activation ||
                *s == registry::certificate_status::pending_transfer) {
              return invalid("iot_registry.status: expected ACTIVE, INACTIVE or REVOKED");
            }
            status = *s;
          } else if (key == "attachPolicy" && v.IsString()) {
            policies.emplace_back(json::view(v));
          } else if (key == "attachPolicy" && v.IsArray()) {
            for (const auto& p : v.GetArray()) {
              if (!p.IsString()) return invalid("iot_registry.attachPolicy: expected policy names");
              policies.emplace_back(json::view(p));
            }
          } else {
            return invalid("iot_registry." + std::string(key) + ": unknown key or wrong type");
          }
        }
        if (certificate.empty()) return invalid("iot_registry.certificateId is required");
        if (!thing.empty() && from_cn) {
          return invalid("iot_registry: thingName and thingFromCommonName exclude each other");
        }
        return std::make_unique<registry_action>(*this, std::move(certificate), std::move(thing),
                                                 from_cn, status, std::move(policies));
      });
}

void security::add_sql_functions(rules::engine_options& o, shadow::service& shadows) {
  auto fns = std::make_shared<sql::function_registry>();
  // get_thing_shadow(thingName, roleArn[, shadowName]): the shadow document, or
  // Undefined when there is none. The role is not checked (no IAM here).
  fns->add("get_thing_shadow", 2, 3,
           [&shadows](std::span<const sql::value> args, const sql::message&) -> result<sql::value> {
             if (args[0].kind() != sql::type::string) return sql::value{};
             shadow::shadow_key key{args[0].as_string(), {}};
             if (args.size() > 2 && args[2].kind() == sql::type::string) {
               key.name = args[2].as_string();
             }
             auto out = shadows.get(key);
             if (out.status == 404) return sql::value{};
             if (!out.accepted()) {
               return failure{out.error, "get_thing_shadow(" + key.label() + "): " + out.body, {}};
             }
             return sql::value::from_json(out.body);
           });
  sql_functions_ = fns;
  o.functions = std::move(fns);
}

}  // namespace iotblocks::gateway
