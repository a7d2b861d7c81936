// Changes of the registry (things), the thing groups and the thing types, as values handed to
// an observer once they are committed: what AWS IoT's registry events are made from.
//
//   groups->on_change([&](const iotblocks::registry::change& c) {
//     if (auto* m = std::get_if<iotblocks::registry::membership_change>(&c)) notify(m->thing);
//   });
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/registry/records.hpp>
#include <iotblocks/registry/thing_group_store.hpp>
#include <iotblocks/registry/thing_type_store.hpp>

#include <functional>
#include <string>
#include <variant>
#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::registry {

/// What happened to the record a change carries.
enum class change_op { created, updated, deleted, added, removed };

/// A thing created, updated (type or attributes) or deleted.
struct thing_change {
  change_op op = change_op::created;
  thing value{};                ///< after the change; the deleted thing for `deleted`
  std::string previous_type{};  ///< the type before an update or a deletion ("" for none)
};

/// A thing group created or deleted.
struct thing_group_change {
  change_op op = change_op::created;
  thing_group value{};                   ///< after the change; the deleted group for `deleted`
  std::vector<std::string> ancestors{};  ///< root first, ending with the parent
};

/// A thing added to or removed from a thing group (`added`, `removed`).
struct membership_change {
  change_op op = change_op::added;
  std::string group{};
  std::string thing{};
};

/// A thing type created, deprecated or undeprecated (`updated`), or deleted.
struct thing_type_change {
  change_op op = change_op::created;
  thing_type value{};
};

using change = std::variant<thing_change, thing_group_change, membership_change, thing_type_change>;

/// Called once per committed change (a batch's changes when it commits; none when it is rolled
/// back), on the thread that made it, after the store's locks are released: it may call back.
using change_observer = std::function<void(const change&)>;

}  // namespace iotblocks::registry

IOTBLOCKS_API_END
