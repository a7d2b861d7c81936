// Thing types: the whole set in memory, every change written to the store first (committed
// before the call returns). A store shared by processes is looked at before each write (and
// by reads at most every sync_interval) and loaded again when another process changed it; a
// write that meets a change made meanwhile (store_changed) is checked again and retried.
#include <iotblocks/registry/registry.hpp>
#include <iotblocks/registry/thing_types.hpp>

#include "registry/change_queue.hpp"
#include "registry/shared_view.hpp"
#include "registry/sqlite_type_store.hpp"

#include <map>
#include <mutex>

namespace iotblocks::registry {
namespace {

failure fail(error e, std::string message) { return failure{e, std::move(message), {}}; }

}  // namespace

struct thing_types::impl : detail::shared_view<thing_types::impl> {
  static constexpr const char* kept_changing = "the thing types kept changing: ";
  detail::change_queue changes;
  std::unique_ptr<thing_type_store> db;
  const iotblocks::clock& clock;
  thing_types_options opts;
  std::mutex mutex;
  std::map<std::string, thing_type, std::less<>> types;

  impl(std::unique_ptr<thing_type_store> s, const iotblocks::clock& c, const thing_types_options& o)
      : db(std::move(s)), clock(c), opts(o) {}

  result<void> reload() {
    auto all = db->load();
    if (!all) return std::move(all).take_failure();
    types.clear();
    for (auto& t : *all) types.emplace(t.name, std::move(t));
    loaded();
    return {};
  }

  result<thing_type*> find(std::string_view name) {
    auto it = types.find(name);
    if (it == types.end()) return fail(error::not_found, "no thing type " + std::string(name));
    return &it->second;
  }
};

result<std::unique_ptr<thing_types>> thing_types::open(const std::string& path,
                                                       const iotblocks::clock& clock) {
  auto s = detail::sqlite_type_store::open(path);
  if (!s) return std::move(s).take_failure();
  return open(std::unique_ptr<thing_type_store>(std::move(*s)), clock);
}

result<std::unique_ptr<thing_types>> thing_types::open(std::unique_ptr<thing_type_store> store,
                                                       const iotblocks::clock& clock,
                                                       const thing_types_options& o) {
  auto p = std::make_unique<impl>(std::move(store), clock, o);
  if (auto r = p->reload(); !r) return std::move(r).take_failure();
  return std::unique_ptr<thing_types>(new thing_types(std::move(p)));
}

thing_types::thing_types(std::unique_ptr<impl> p) : p_(std::move(p)) {}
thing_types::~thing_types() = default;

result<void> thing_types::refresh() {
  std::lock_guard lock{p_->mutex};
  return p_->sync(true);
}

result<thing_type> thing_types::create(thing_type t) {
  if (!valid_thing_name(t.name)) {
    return fail(error::invalid_name, "thing type name is not [a-zA-Z0-9:_-]{1,128}");
  }
  if (t.description.size() > max_description) {
    return fail(error::limit_exceeded, "description exceeds 2028 characters");
  }
  if (t.searchable_attributes.size() > max_searchable_attributes) {
    return fail(error::limit_exceeded, "more than 3 searchable attributes");
  }
  for (const auto& a : t.searchable_attributes) {
    if (!valid_attribute_name(a)) {
      return fail(error::invalid_name, "searchable attribute '" + a.substr(0, 140) +
                                           "' is not [a-zA-Z0-9_.,@/:#-]{1,128}");
    }
  }
  detail::changes_flush flush{p_->changes};
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<thing_type> {
    if (p_->types.count(t.name)) {
      return fail(error::already_exists, "thing type " + t.name + " exists");
    }
    thing_type made = t;
    made.deprecated = false;
    made.deprecated_ms = 0;
    made.created_ms = p_->clock.now_ms();
    if (auto r = p_->db->insert_type(made); !r) return r.fail();
    p_->types.emplace(made.name, made);
    p_->changes.push(thing_type_change{change_op::created, made});
    return made;
  });
}

result<thing_type> thing_types::describe(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  auto t = p_->find(name);
  if (!t) return t.fail();
  return **t;
}

std::vector<thing_type> thing_types::list(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  std::vector<thing_type> out;
  for (const auto& [n, t] : p_->types) {
    if (name.empty() || n == name) out.push_back(t);
  }
  return out;
}

result<thing_type> thing_types::deprecate(std::string_view name, bool undo) {
  detail::changes_flush flush{p_->changes};
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<thing_type> {
    auto t = p_->find(name);
    if (!t) return t.fail();
    thing_type next = **t;
    next.deprecated = !undo;
    if (!undo) next.deprecated_ms = p_->clock.now_ms();
    if (auto r = p_->db->update_type(next); !r) return r.fail();
    **t = next;
    p_->changes.push(thing_type_change{change_op::updated, next});
    return next;
  });
}

result<void> thing_types::remove(std::string_view name) {
  detail::changes_flush flush{p_->changes};
  std::lock_guard lock{p_->mutex};
  return p_->change([&]() -> result<void> {
    auto t = p_->find(name);
    if (!t) return t.fail();
    if (!(*t)->deprecated) {
      return fail(error::deprecated,
                  "thing type " + std::string(name) + " must be deprecated before it is deleted");
    }
    const auto since = p_->clock.now_ms() - (*t)->deprecated_ms;
    if (since < std::chrono::milliseconds(delete_after).count()) {
      return fail(error::deprecated,
                  "thing type " + std::string(name) + " was deprecated less than 5 minutes ago");
    }
    if (auto r = p_->db->delete_type(name); !r) return r;
    const auto gone = p_->types.find(name);
    p_->changes.push(thing_type_change{change_op::deleted, gone->second});
    p_->types.erase(gone);
    return {};
  });
}

void thing_types::on_change(change_observer f) { p_->changes.observe(std::move(f)); }

result<void> thing_types::assignable(std::string_view name) const {
  std::lock_guard lock{p_->mutex};
  (void)p_->sync(false);
  auto t = p_->find(name);
  if (!t) return t.fail();
  if ((*t)->deprecated) {
    return fail(error::deprecated, "thing type " + std::string(name) + " is deprecated");
  }
  return {};
}

}  // namespace iotblocks::registry
