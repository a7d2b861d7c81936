// Thing groups: the whole set in memory, every change written to the store first. A store
// shared by processes is looked at before each write (and by reads at most every
// sync_interval) and loaded again when another process changed it; a write that meets a
// change made meanwhile (store_changed) is checked again on the fresh state and retried.
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_groups.hpp>

#include <iotblocks/core/clock.hpp>

#include "registry/change_queue.hpp"
#include "registry/shared_view.hpp"
#include "registry/sqlite_group_store.hpp"

#include <algorithm>
#include <mutex>
#include <set>

namespace iotblocks::registry {
namespace {

failure fail(error e, std::string message) { return failure{e, std::move(message), {}}; }

using name_set = std::set<std::string, std::less<>>;

result<void> check_properties(const thing_group& g) {
  if (g.description.size() > thing_groups::max_description) {
    return fail(error::limit_exceeded, "description exceeds 2028 characters");
  }
  if (g.attributes.size() > thing_groups::max_attributes) {
    return fail(error::limit_exceeded, "more than 50 attributes");
  }
  for (const auto& [k, v] : g.attributes) {
    if (!valid_thing_name(k) || v.size() > 800) {
      return fail(error::invalid_name, "invalid attribute " + k);
    }
  }
  return {};
}

}  // namespace

struct thing_groups::impl : detail::shared_view<thing_groups::impl> {
  static constexpr const char* kept_changing = "the thing groups kept changing: ";
  detail::change_queue changes;
  std::unique_ptr<thing_group_store> db;
  thing_groups_options opts;
  std::mutex mutex;
  /// Taken before `mutex` by every change, and held by a batch from begin to end.
  std::recursive_mutex gate;
  std::map<std::string, thing_group, std::less<>> groups;
  std::map<std::string, name_set, std::less<>> members;   // group → things
  std::map<std::string, name_set, std::less<>> of_thing;  // thing → groups

  impl(std::unique_ptr<thing_group_store> s, const thing_groups_options& o)
      : db(std::move(s)), opts(o) {}

  /// Replaces the in-memory view with what is committed.
  result<void> reload() {
    auto state = db->load();
    if (!state) return std::move(state).take_failure();
    groups.clear();
    members.clear();
    of_thing.clear();
    for (auto& g : state->groups) groups.emplace(g.name, std::move(g));
    for (auto& [group, thing] : state->members) {
      members[group].insert(thing);
      of_thing[thing].insert(std::move(group));
    }
    loaded();
    return {};
  }

  std::vector<std::string> chain(std::string_view name) const {  // root first, without name
    std::vector<std::string> out;
    auto it = groups.find(name);
    while (it != groups.end() && !it->second.parent.empty() && out.size() <= max_depth) {
      out.push_back(it->second.parent);
      it = groups.find(it->second.parent);
    }
    std::reverse(out.begin(), out.end());
    return out;
  }

  std::string root_of(std::string_view name) const {
    auto c = chain(name);
    return c.empty() ? std::string(name) : c.front();
  }

  void descendants(std::string_view name, std::vector<std::string>& out) const {
    for (const auto& [n, g] : groups) {
      if (g.parent == name) {
        out.push_back(n);
        descendants(n, out);
      }
    }
  }

  void drop_member(const std::string& group, const std::string& thing) {
    if (auto m = members.find(group); m != members.end()) {
      m->second.erase(thing);
      if (m->second.empty()) members.erase(m);
    }
    if (auto o = of_thing.find(thing); o != of_thing.end()) {
      o->second.erase(group);
      if (o->second.empty()) of_thing.erase(o);
    }
  }
};

result<std::unique_ptr<thing_groups>> thing_groups::open(const std::string& path) {
  auto s = detail::sqlite_group_store::open(path);
  if (!s) return std::move(s).take_failure();
  return open(std::unique_ptr<thing_group_store>(std::move(*s)));
}

result<std::unique_ptr<thing_groups>> thing_groups::open(std::unique_ptr<thing_group_store> store,
                                                         const thing_groups_options& o) {
  auto p = std::make_unique<impl>(std::move(store), o);
  if (auto r = p->reload(); !r) return std::move(r).take_failure();
  return std::unique_ptr<thing_groups>(new thing_groups(std::move(p)));
}

thing_groups::thing_groups(std::unique_ptr<impl> p) : p_(std::move(p)) {}
thing_groups::~thing_groups() = default;

result<void> thing_groups::refresh() {
  std::lock_guard lock{p_->mutex};
  return p_->sync(true);
}

result<void> thing_groups::begin_batch() {
  std::unique_lock gate{p_->gate};
  std::lock_guard lock{p_->mutex};
  if (auto s = p_->sync(true); !s) return s;
  if (auto r = p_->db->begin_batch(); !r) return r;
  p_->changes.begin_batch();
  gate.release();  // held until commit_batch() or rollback_batch()
  return {};
}

result<void> thing_groups::commit_batch() {
  result<void> r;
  {
    std::unique_lock gate{p_->gate, std::adopt_lock};
    std::lock_guard lock{p_->mutex};
    r = p_->db->commit_batch();
    if (!r) (void)p_->reload();
  }
  p_->changes.end_batch(r.ok());
  return r;
}

void thing_groups::rollback_batch() {
  std::unique_lock gate{p_->gate, std::adopt_lock};
  std::lock_guard lock{p_->mutex};
  p_->db->rollback_batch();
  (void)p_->reload();
  p_->changes.end_batch(false);
}

void thing_groups::on_change(change_observer f) { p_->changes.observe(std::move(f)); }

result<thing_group> thing_groups::create(thing_group g) {
  if (!valid_thing_name(g.name)) return fail(error::invalid_name, "invalid thing group name");
  if (!g.parent.empty() && !valid_thing_name(g.parent)) {
    return fail(error::invalid_name, "invalid parent group name");
  }
  if (auto r = check_properties(g); !r) return r.fail();
  detail::changes_flush flush{p_->changes};
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<thing_group> {
    if (auto it = p_->groups.find(g.name); it != p_->groups.end()) {
      const auto& e = it->second;
      if (e.parent == g.parent && e.attributes == g.attributes && e.description == g.description) {
        return e;
      }
      return fail(error::already_exists, "thing group " + g.name + " exists");
    }
    if (!g.parent.empty()) {
      if (!p_->groups.count(g.parent)) return fail(error::not_found, "no parent group " + g.parent);
      if (p_->chain(g.parent).size() + 2 > max_depth) {
        return fail(error::limit_exceeded, "the hierarchy would be deeper than 7 levels");
      }
    }
    thing_group made = g;
    made.version = 1;
    made.created_ms = default_clock().now_ms();
    if (auto r = p_->db->insert_group(made); !r) {
      // Another process created it first: look again (the same group succeeds).
      if (r.error() == error::already_exists) return fail(error::store_changed, r.describe());
      return r.fail();
    }
    p_->groups.emplace(made.name, made);
    p_->changes.push(thing_group_change{change_op::created, made, p_->chain(made.name)});
    return made;
  });
}

result<thing_group> thing_groups::describe(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  auto it = p_->groups.find(name);
  if (it == p_->groups.end()) return fail(error::not_found, "no thing group " + std::string(name));
  return it->second;
}

result<thing_group> thing_groups::update(std::string_view name, const thing_group_update& u) {
  detail::changes_flush flush{p_->changes};
  std::lock_guard gate{p_->gate};
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<thing_group> {
    auto it = p_->groups.find(name);
    if (it == p_->groups.end()) {
      return fail(error::not_found, "no thing group " + std::string(name));
    }
    const thing_group& now = it->second;
    if (u.expected_version && *u.expected_version != now.version) {
      return fail(error::version_conflict,
                  "thing group " + now.name + " is at version " + std::to_string(now.version));
    }
    thing_group next = now;
    if (u.description) next.description = *u.description;
    if (u.attributes && u.merge) {
      for (const auto& [k, v] : *u.attributes) {
        if (v.empty()) {
          next.attributes.erase(k);
        } else {
          next.attributes[k] = v;
        }
      }
    } else if (u.attributes) {
      next.attributes = *u.attributes;
    }
    if (auto r = check_properties(next); !r) return r.fail();
    next.version = now.version + 1;
    if (auto r = p_->db->update_group(next, now.version); !r) {
      if (r.error() == error::version_conflict) return fail(error::store_changed, r.describe());
      return r.fail();
    }
    it->second = next;
    p_->changes.push(thing_group_change{change_op::updated, next, p_->chain(next.name)});
    return next;
  });
}

result<void> thing_groups::remove(std::string_view name,
                                  std::optional<std::int64_t> expected_version) {
  detail::changes_flush flush{p_->changes};
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<void> {
    auto it = p_->groups.find(name);
    if (it == p_->groups.end()) return {};
    if (expected_version && *expected_version != it->second.version) {
      return fail(error::version_conflict, "thing group " + std::string(name) + " is at version " +
                                               std::to_string(it->second.version));
    }
    for (const auto& [n, g] : p_->groups) {
      if (g.parent == name) return fail(error::in_use, "the thing group has child groups");
    }
    if (auto r = p_->db->delete_group(name, it->second.version); !r) {
      if (r.error() == error::version_conflict) return fail(error::store_changed, r.describe());
      return r;
    }
    const std::string key(name);
    if (auto m = p_->members.find(key); m != p_->members.end()) {
      for (const auto& thing : name_set(m->second)) {
        p_->drop_member(key, thing);
        p_->changes.push(membership_change{change_op::removed, key, thing});
      }
    }
    p_->changes.push(thing_group_change{change_op::deleted, p_->groups.at(key), p_->chain(key)});
    p_->groups.erase(key);
    return {};
  });
}

std::vector<std::string> thing_groups::list(std::string_view parent, bool recursive) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  std::vector<std::string> out;
  if (parent.empty() && recursive) {
    for (const auto& [n, g] : p_->groups) out.push_back(n);
    return out;
  }
  if (recursive) {
    p_->descendants(parent, out);
  } else {
    for (const auto& [n, g] : p_->groups) {
      if (g.parent == parent) out.push_back(n);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> thing_groups::ancestors(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  return p_->chain(name);
}

result<void> thing_groups::add_thing(std::string_view group, std::string_view thing) {
  if (!valid_thing_name(thing)) return fail(error::invalid_name, "invalid thing name");
  detail::changes_flush flush{p_->changes};
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<void> {
    if (!p_->groups.count(group)) {
      return fail(error::not_found, "no thing group " + std::string(group));
    }
    auto mine = p_->of_thing.find(thing);
    if (mine != p_->of_thing.end()) {
      if (mine->second.count(group)) return {};
      if (mine->second.size() >= max_groups_per_thing) {
        return fail(error::limit_exceeded, "a thing can be in at most 10 thing groups");
      }
      const std::string root = p_->root_of(group);
      for (const auto& other : mine->second) {
        if (p_->root_of(other) == root) {
          return fail(
              error::hierarchy_conflict,
              "the thing is in " + other + ", in the same hierarchy as " + std::string(group));
        }
      }
    }
    if (auto r = p_->db->add_member(group, thing); !r) return r;
    const std::string g(group), t(thing);
    p_->members[g].insert(t);
    p_->of_thing[t].insert(g);
    p_->changes.push(membership_change{change_op::added, g, t});
    return {};
  });
}

result<void> thing_groups::remove_thing(std::string_view group, std::string_view thing) {
  detail::changes_flush flush{p_->changes};
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<void> {
    if (!p_->groups.count(group)) {
      return fail(error::not_found, "no thing group " + std::string(group));
    }
    auto m = p_->members.find(group);
    if (m == p_->members.end() || !m->second.count(thing)) return {};
    if (auto r = p_->db->remove_member(group, thing); !r) return r;
    p_->drop_member(std::string(group), std::string(thing));
    p_->changes.push(membership_change{change_op::removed, std::string(group), std::string(thing)});
    return {};
  });
}

std::vector<std::string> thing_groups::things_in(std::string_view group, bool recursive) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  std::vector<std::string> groups{std::string(group)};
  if (recursive) p_->descendants(group, groups);
  std::set<std::string> out;
  for (const auto& g : groups) {
    if (auto m = p_->members.find(g); m != p_->members.end()) {
      out.insert(m->second.begin(), m->second.end());
    }
  }
  return {out.begin(), out.end()};
}

std::vector<std::string> thing_groups::groups_of(std::string_view thing) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  auto it = p_->of_thing.find(thing);
  if (it == p_->of_thing.end()) return {};
  return {it->second.begin(), it->second.end()};
}

std::vector<std::string> thing_groups::memberships(std::string_view thing) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  std::set<std::string> out;
  if (auto it = p_->of_thing.find(thing); it != p_->of_thing.end()) {
    for (const auto& g : it->second) {
      out.insert(g);
      for (auto& a : p_->chain(g)) out.insert(std::move(a));
    }
  }
  return {out.begin(), out.end()};
}

result<void> thing_groups::forget_thing(std::string_view thing) {
  detail::changes_flush flush{p_->changes};
  std::lock_guard gate{p_->gate};  // a batch of another thread ends first
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<void> {
    auto it = p_->of_thing.find(thing);
    if (it == p_->of_thing.end()) return {};
    if (auto r = p_->db->forget_thing(thing); !r) return r;
    const std::string t(thing);
    for (const auto& g : name_set(it->second)) {
      p_->drop_member(g, t);
      p_->changes.push(membership_change{change_op::removed, g, t});
    }
    return {};
  });
}

}  // namespace iotblocks::registry
