// Things and their attachment to device certificates.
#include <iotblocks/registry/registry.hpp>

#include "registry/impl.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace iotblocks::registry {

using lock = std::lock_guard<std::mutex>;

bool valid_thing_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 128) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == ':' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

namespace {

failure fail(error e, std::string message) { return failure{e, std::move(message), {}}; }

bool attribute_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ',' || c == '@' || c == '/' || c == ':' || c == '#' || c == '-';
}

}  // namespace

bool valid_attribute_name(std::string_view name) noexcept {
  return !name.empty() && name.size() <= 128 &&
         std::all_of(name.begin(), name.end(), attribute_char);
}

namespace {

// AWS IoT's syntax: names [a-zA-Z0-9_.,@/:#-]{1,128}, values the same set, at most 800.
result<void> validate(const thing& t, std::size_t max_attributes) {
  if (!valid_thing_name(t.name)) {
    return fail(error::invalid_name, fmt::format("thing name '{}' is not [a-zA-Z0-9:_-]{{1,128}}",
                                                 t.name.substr(0, 140)));
  }
  if (!t.type.empty() && !valid_thing_name(t.type)) {
    return fail(error::invalid_name, fmt::format("thing type '{}' is not [a-zA-Z0-9:_-]{{1,128}}",
                                                 t.type.substr(0, 140)));
  }
  if (t.attributes.size() > max_attributes) {
    return fail(error::limit_exceeded, fmt::format("more than {} attributes", max_attributes));
  }
  for (const auto& [k, v] : t.attributes) {
    const bool value_ok = v.size() <= 800 && std::all_of(v.begin(), v.end(), attribute_char);
    if (!valid_attribute_name(k) || !value_ok) {
      return fail(error::invalid_name, fmt::format("invalid attribute '{}'", k.substr(0, 140)));
    }
  }
  return {};
}

void refresh_attached(detail::registry_impl& d, std::string_view thing_name) {
  auto it = d.thing_principals.find(thing_name);
  if (it == d.thing_principals.end()) return;
  for (const auto& cert_id : it->second) {
    if (auto* rec = d.certificates.find(cert_id)) *rec = d.with_things(**rec);
  }
}

}  // namespace

result<void> registry::create_thing(const thing& t) {
  detail::changes_flush flush{d_->changes};
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  if (auto r = validate(t, d_->opts.max_attributes); !r) return r;
  if (d_->things.contains(t.name)) {
    return fail(error::already_exists, fmt::format("thing '{}' exists already", t.name));
  }
  thing stored = t;
  stored.version = 1;
  if (auto r = d_->db->insert_thing(stored); !r) return r;
  d_->changes.push(thing_change{change_op::created, stored, {}});
  d_->things.emplace(stored.name, std::move(stored));
  return {};
}

result<void> registry::update_thing(const thing& t, std::optional<std::int64_t> expected_version) {
  detail::changes_flush flush{d_->changes};
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto it = d_->things.find(t.name);
  if (it == d_->things.end()) {
    return fail(error::not_found, fmt::format("no thing '{}'", t.name.substr(0, 140)));
  }
  if (expected_version && *expected_version != it->second.version) {
    return fail(error::version_conflict, fmt::format("thing '{}' is at version {}, not {}", t.name,
                                                     it->second.version, *expected_version));
  }
  if (auto r = validate(t, d_->opts.max_attributes); !r) return r;
  thing stored = t;
  stored.version = it->second.version + 1;
  if (auto r = d_->db->update_thing(stored, it->second.version); !r) return r;
  d_->changes.push(thing_change{change_op::updated, stored, it->second.type});
  it->second = std::move(stored);
  refresh_attached(*d_, t.name);
  return {};
}

result<void> registry::delete_thing(std::string_view name,
                                    std::optional<std::int64_t> expected_version) {
  detail::changes_flush flush{d_->changes};
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto it = d_->things.find(name);
  if (it == d_->things.end()) {
    return fail(error::not_found, fmt::format("no thing '{}'", name.substr(0, 140)));
  }
  if (expected_version && *expected_version != it->second.version) {
    return fail(error::version_conflict, fmt::format("thing '{}' is at version {}, not {}", name,
                                                     it->second.version, *expected_version));
  }
  if (auto p = d_->thing_principals.find(name);
      p != d_->thing_principals.end() && !p->second.empty()) {
    return fail(error::in_use, "detach the certificates first");
  }
  if (auto r = d_->db->delete_thing(name); !r) return r;
  d_->thing_principals.erase(std::string{name});
  d_->changes.push(thing_change{change_op::deleted, it->second, it->second.type});
  d_->things.erase(it);
  return {};
}

void registry::on_change(change_observer f) { d_->changes.observe(std::move(f)); }

result<thing> registry::describe_thing(std::string_view name) const {
  detail::synced_lock l{*d_, false};
  auto it = d_->things.find(name);
  if (it == d_->things.end()) {
    return fail(error::not_found, fmt::format("no thing '{}'", name.substr(0, 140)));
  }
  return it->second;
}

std::vector<thing> registry::list_things() const {
  detail::synced_lock l{*d_, false};
  std::vector<thing> out;
  out.reserve(d_->things.size());
  for (const auto& [name, t] : d_->things) out.push_back(t);
  return out;
}

result<void> registry::attach_thing(std::string_view thing_name, std::string_view certificate_id) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto& d = *d_;
  if (!d.things.contains(thing_name)) {
    return fail(error::not_found, fmt::format("no thing '{}'", thing_name.substr(0, 140)));
  }
  if (!d.certificates.contains(certificate_id)) {
    return fail(error::not_found, fmt::format("no certificate {}", certificate_id.substr(0, 64)));
  }
  auto& attached = d.certificate_things[std::string{certificate_id}];
  if (attached.contains(std::string{thing_name})) return {};
  if (attached.size() >= d.opts.max_things_per_certificate) {
    return fail(error::limit_exceeded, fmt::format("more than {} things on one certificate",
                                                   d.opts.max_things_per_certificate));
  }
  if (auto r = d.db->attach(thing_name, certificate_id); !r) return r;
  attached.emplace(thing_name);
  d.thing_principals[std::string{thing_name}].emplace(certificate_id);
  auto* rec = d.certificates.find(certificate_id);
  *rec = d.with_things(**rec);
  return {};
}

result<void> registry::detach_thing(std::string_view thing_name, std::string_view certificate_id) {
  detail::synced_lock l{*d_, true};
  if (!l.status()) return l.status().fail();
  auto& d = *d_;
  if (!d.things.contains(thing_name)) {
    return fail(error::not_found, fmt::format("no thing '{}'", thing_name.substr(0, 140)));
  }
  auto* rec = d.certificates.find(certificate_id);
  if (rec == nullptr) {
    return fail(error::not_found, fmt::format("no certificate {}", certificate_id.substr(0, 64)));
  }
  auto attached = d.certificate_things.find(certificate_id);
  if (attached == d.certificate_things.end() ||
      !attached->second.contains(std::string{thing_name})) {
    return {};
  }
  if (auto r = d.db->detach(thing_name, certificate_id); !r) return r;
  attached->second.erase(std::string{thing_name});
  if (auto p = d.thing_principals.find(thing_name); p != d.thing_principals.end()) {
    p->second.erase(std::string{certificate_id});
  }
  *rec = d.with_things(**rec);
  return {};
}

result<std::vector<std::string>> registry::list_thing_principals(
    std::string_view thing_name) const {
  detail::synced_lock l{*d_, false};
  if (!d_->things.contains(thing_name)) {
    return fail(error::not_found, fmt::format("no thing '{}'", thing_name.substr(0, 140)));
  }
  std::vector<std::string> out;
  if (auto p = d_->thing_principals.find(thing_name); p != d_->thing_principals.end()) {
    out.assign(p->second.begin(), p->second.end());
  }
  return out;
}

}  // namespace iotblocks::registry
