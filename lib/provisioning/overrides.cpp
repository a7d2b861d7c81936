// OverrideSettings applied to an existing thing.
#include <iotblocks/provisioning/error.hpp>
#include <iotblocks/provisioning/overrides.hpp>

#include <set>

namespace iotblocks::provisioning {

result<thing_changes> thing_changes_for(const thing_plan& t, const existing_thing* existing) {
  thing_changes c;
  const bool fresh = existing == nullptr;
  if (!fresh) {
    c.type = existing->type;
    c.attributes = existing->attributes;
  }
  auto conflict = [&](const char* property) {
    return failure{error::resource_conflict,
                   "Resources." + t.logical_name + ".Properties." + property + ": thing '" +
                       t.name + "' exists with another value (OverrideSettings FAIL)",
                   {}};
  };
  if (t.type_name) {
    if (fresh || t.type_override == override_mode::replace) c.type = *t.type_name;
    if (!fresh && t.type_override == override_mode::fail && existing->type != *t.type_name) {
      return conflict("ThingTypeName");
    }
  }
  if (t.attributes) {
    if (fresh || t.attributes_override == override_mode::replace) {
      c.attributes = *t.attributes;
    } else if (t.attributes_override == override_mode::merge) {
      for (const auto& [k, v] : *t.attributes) c.attributes[k] = v;
    } else if (t.attributes_override == override_mode::fail &&
               existing->attributes != *t.attributes) {
      return conflict("AttributePayload");
    }
  }
  c.type_or_attributes_change =
      fresh || c.type != existing->type || c.attributes != existing->attributes;
  if (t.groups) {
    const std::set<std::string> wanted(t.groups->begin(), t.groups->end());
    std::set<std::string> have;
    if (!fresh) have.insert(existing->groups.begin(), existing->groups.end());
    const auto mode = fresh ? override_mode::merge : t.groups_override;
    if (mode == override_mode::fail && have != wanted) return conflict("ThingGroups");
    if (mode == override_mode::merge || mode == override_mode::replace) {
      for (const auto& g : wanted) {
        if (!have.contains(g)) c.add_groups.push_back(g);
      }
    }
    if (mode == override_mode::replace) {
      for (const auto& g : have) {
        if (!wanted.contains(g)) c.drop_groups.push_back(g);
      }
    }
  }
  return c;
}

}  // namespace iotblocks::provisioning
