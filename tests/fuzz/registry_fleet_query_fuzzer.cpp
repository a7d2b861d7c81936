// Fleet indexing queries: parsing arbitrary text never crashes and stays within its limits
// (a failure is invalid_query with a position inside the text); what parses is matched
// against documents built from the input, and a query and its negation disagree on each.
#include <iotblocks/registry/fleet_query.hpp>

#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace iotblocks::registry;

void check(bool ok) {
  if (!ok) std::abort();
}

void probe(const fleet_query& q, std::string_view text, const thing_document& d) {
  const bool m = q.matches(d);
  auto negated = fleet_query::parse("NOT (" + std::string(text) + ")");
  if (negated) check(negated->matches(d) != m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto index : {fleet_index::things, fleet_index::thing_groups}) {
    auto q = fleet_query::parse(text, index);
    if (!q) {
      check(q.fail().code == error::invalid_query);
      check(q.fail().where.known() && q.fail().where.offset <= std::max<std::size_t>(size, 1024));
      continue;
    }
    thing_document d;
    d.add("thingName", std::string(text.substr(0, 64)));
    d.add("thingTypeName", "Light");
    d.add("thingGroupNames", "building");
    d.add("attributes.w", "40");
    d.add("thingGroupName", "g");
    (void)d.add_json("shadow.reported", text);
    (void)d.add_json("shadow.reported", R"({"on":true,"t":21.5,"p":{"x":[1,"a"]}})");
    probe(*q, text, d);
    probe(*q, text, thing_document{});
  }
  return 0;
}
