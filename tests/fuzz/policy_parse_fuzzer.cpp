// Policy documents: parsing must never crash and must stay within its limits;
// whatever parses must survive canonical JSON -> parse -> canonical JSON
// unchanged and decide a set of requests (some built from the input itself)
// exactly as the original does.
#include <iotblocks/policy.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace iotblocks;

policy::context make_context(std::string_view input) {
  policy::context ctx;
  ctx.client_id = "probe_1";
  ctx.thing_name = "probe_1";
  ctx.thing_is_attached = true;
  ctx.thing_attributes = {{"site", "north"}};
  ctx.subject.add(policy::dn_attribute::common_name, "probe_1");
  ctx.subject.add(policy::dn_attribute::organization, "Example Corp");
  ctx.subject.add(policy::dn_attribute::organization, "AnyCompany");
  ctx.source_ip = "10.1.2.3";
  // A variable set from the input: "name=value" on its first line.
  const auto line = input.substr(0, input.find('\n'));
  if (const auto eq = line.find('='); eq != std::string_view::npos && line.size() < 256) {
    (void)ctx.set(line.substr(0, eq), line.substr(eq + 1));
  }
  return ctx;
}

void same_decisions(const policy::document& a, const policy::document& b, std::string_view input,
                    const policy::context& ctx) {
  policy::policy_set sa;
  sa.add("a", 1, a);
  policy::policy_set sb;
  sb.add("b", 1, b);
  const std::string arn = "arn:aws:iot:us-east-1:000000000000:";
  const std::string tail(input.substr(0, 200));
  // request holds views: keep the strings alive.
  const std::string resources[] = {arn + "client/probe_1",
                                   arn + "topic/Greenhouse/probe_1",
                                   arn + "topicfilter/a/#",
                                   arn + "topic/" + tail,
                                   tail,
                                   arn + "function:f"};
  const policy::request requests[] = {
      {policy::actions::connect, resources[0]},
      {policy::actions::publish, resources[1]},
      {policy::actions::subscribe, resources[2]},
      {policy::actions::receive, resources[3]},
      {policy::actions::publish, resources[4]},
      policy::request::named("lambda:InvokeFunction", resources[5]),
  };
  for (const auto& r : requests) {
    const auto da = policy::evaluate(sa, r, ctx);
    const auto db = policy::evaluate(sb, r, ctx);
    if (da.result != db.result || da.statement != db.statement) std::abort();
    (void)da.to_json();
  }
}

void check(std::string_view text, const policy::parse_options& options) {
  auto doc = policy::parse_document(text, options);
  if (!doc) {
    if (doc.describe().empty()) std::abort();
    return;
  }
  const std::string canonical = doc->to_json();
  auto again = policy::parse_document(canonical, {.kind = options.kind, .max_size = 1 << 20});
  if (!again || again->to_json() != canonical) std::abort();
  if (again->statement_count() != doc->statement_count()) std::abort();
  same_decisions(*doc, *again, text, make_context(text));
  if (options.kind == policy::document_kind::resource) {
    (void)policy::authorize_invocation(*doc,
                                       {.action = "lambda:InvokeFunction",
                                        .destination_arn = "arn:aws:lambda:us-east-1:1:function:f",
                                        .source_arn = "arn:aws:iot:us-east-1:2:rule/r"});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text{reinterpret_cast<const char*>(data), size};
  check(text, {.max_size = 1 << 14});
  check(text, {.kind = policy::document_kind::resource, .max_size = 1 << 14});
  return 0;
}
