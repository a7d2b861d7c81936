// What a thing plan changes on a thing that may already exist, as its OverrideSettings say:
// the thing's type and attributes afterwards and the group memberships to add and drop, or
// resource_conflict for a FAIL setting whose property differs.
//
//   existing_thing now{"lamp-type", {{"v", "1"}}, {"old"}};
//   auto c = iotblocks::provisioning::thing_changes_for(*plan.thing, &now);
//   // c->attributes, c->add_groups, c->drop_groups; c.describe() on a conflict:
//   // "Resources.thing.Properties.ThingGroups: thing 'lamp-42' exists with another value …"
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/provisioning/plan.hpp>

#include <map>
#include <string>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::provisioning {

/// A thing as the registry holds it.
struct existing_thing {
  std::string type;
  std::map<std::string, std::string> attributes;
  std::vector<std::string> groups;  ///< direct memberships
};

/// The changes a plan makes.
struct thing_changes {
  std::string type;                               ///< the thing's type afterwards
  std::map<std::string, std::string> attributes;  ///< its attributes afterwards
  bool type_or_attributes_change = false;         ///< false: no registry write needed
  std::vector<std::string> add_groups;            ///< sorted, unique
  std::vector<std::string> drop_groups;           ///< sorted (REPLACE only)
};

/// A new thing (`existing` null) takes every property of the plan; an existing one follows
/// the plan's override modes (DO_NOTHING keeps, REPLACE replaces, MERGE adds, FAIL refuses
/// a difference). Errors: resource_conflict, naming the property.
result<thing_changes> thing_changes_for(const thing_plan& t, const existing_thing* existing);

}  // namespace iotblocks::provisioning

IOTBLOCKS_API_END
