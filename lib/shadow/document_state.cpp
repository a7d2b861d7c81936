#include "shadow/document_state.hpp"

#include <climits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace iotblocks::shadow::detail {
namespace {

// A copy of a written scalar or array, stamped with the write time (array elements
// share the array's stamp: arrays are replaced whole).
node stamped(const node& v, std::int64_t ts) {
  node out = v;
  out.ts = ts;
  return out;
}

// A new object from a patch object: nulls are dropped (nothing to delete), and an
// object whose members were all null is not created ("collapses"); {} itself stays.
bool fresh_object(const node& patch, std::int64_t ts, node& out) {
  out = node::object();
  out.members.reserve(patch.members.size());
  bool dropped = false;
  for (const auto& m : patch.members) {
    if (m.value.is_null()) {
      dropped = true;
    } else if (m.value.is_object()) {
      node child;
      if (fresh_object(m.value, ts, child)) {
        out.members.push_back(member{m.key, std::move(child)});
      } else {
        dropped = true;
      }
    } else {
      out.members.push_back(member{m.key, stamped(m.value, ts)});
    }
  }
  return !(dropped && out.members.empty());
}

void merge_object(node& target, const node& patch, std::int64_t ts);

// Member lookup for one merge: linear for small objects, hashed for big ones (a hostile
// patch of thousands of keys must not cost a quadratic number of comparisons).
class member_table {
 public:
  member_table(node& target, std::size_t incoming) : t_(target) {
    big_ = t_.members.size() + incoming > 32;
    if (!big_) return;
    t_.members.reserve(t_.members.size() + incoming);  // keeps key views stable
    erased_.assign(t_.members.size() + incoming, 0);
    index_.reserve(t_.members.size() + incoming);
    for (std::size_t i = 0; i < t_.members.size(); ++i) index_.emplace(t_.members[i].key, i);
  }
  ~member_table() {
    if (!any_erased_) return;
    std::size_t out = 0;
    for (std::size_t i = 0; i < t_.members.size(); ++i) {
      if (erased_[i]) continue;
      if (out != i) t_.members[out] = std::move(t_.members[i]);
      ++out;
    }
    t_.members.resize(out);
  }
  member_table(const member_table&) = delete;
  member_table& operator=(const member_table&) = delete;

  node* find(std::string_view key) {
    if (!big_) {
      for (auto& m : t_.members) {
        if (m.key == key) return &m.value;
      }
      return nullptr;
    }
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &t_.members[it->second].value;
  }
  void erase(std::string_view key) {
    if (!big_) {
      for (auto it = t_.members.begin(); it != t_.members.end(); ++it) {
        if (it->key == key) {
          t_.members.erase(it);
          return;
        }
      }
      return;
    }
    auto it = index_.find(key);
    if (it == index_.end()) return;
    erased_[it->second] = 1;
    any_erased_ = true;
    index_.erase(it);
  }
  void set(std::string_view key, node* existing, node value) {
    if (existing != nullptr) {
      *existing = std::move(value);
      return;
    }
    t_.members.push_back(member{std::string(key), std::move(value)});
    if (big_) index_.emplace(t_.members.back().key, t_.members.size() - 1);
  }

 private:
  node& t_;
  bool big_ = false;
  bool any_erased_ = false;
  std::vector<char> erased_;
  std::unordered_map<std::string_view, std::size_t> index_;
};

void merge_object(node& target, const node& patch, std::int64_t ts) {
  member_table table(target, patch.members.size());
  for (const auto& m : patch.members) {
    node* existing = table.find(m.key);
    if (m.value.is_null()) {
      if (existing != nullptr) table.erase(m.key);
    } else if (m.value.is_object()) {
      if (existing != nullptr && existing->is_object()) {
        merge_object(*existing, m.value, ts);
        continue;
      }
      node fresh;
      if (fresh_object(m.value, ts, fresh)) {
        table.set(m.key, existing, std::move(fresh));
      } else if (existing != nullptr) {
        table.erase(m.key);  // a patch object of nulls replaces a non-object: nothing left
      }
    } else {
      table.set(m.key, existing, stamped(m.value, ts));
    }
  }
}

// {"timestamp":T}, formatted once per distinct T: a small cache, as a message's leaves
// share a few timestamps.
void write_leaf_metadata(writer& w, std::int64_t ts) {
  struct entry {
    std::int64_t ts = INT64_MIN;
    std::string text;
  };
  thread_local entry cache[8];
  entry& e = cache[static_cast<std::uint64_t>(ts) % 8];
  if (e.ts != ts) {
    e.text.assign(R"({"timestamp":)");
    append_int(e.text, ts);
    e.text.push_back('}');
    e.ts = ts;
  }
  w.raw(e.text);
}

}  // namespace

std::size_t state_size(const shadow_state& s) noexcept {
  std::size_t size = 0;
  if (s.desired.is_object()) size += serialized_size(s.desired);
  if (s.reported.is_object()) size += serialized_size(s.reported);
  return size;
}

void merge_section(node& section, const node& patch, std::int64_t ts) {
  if (patch.is_null()) {
    section = node{};
    return;
  }
  if (!section.is_object()) {
    node fresh;
    if (fresh_object(patch, ts, fresh) && !fresh.members.empty()) section = std::move(fresh);
    return;
  }
  merge_object(section, patch, ts);
  if (section.members.empty()) section = node{};
}

std::size_t written_size(const node& patch) noexcept {
  std::size_t size = 0;
  for (const auto& m : patch.members) {
    if (m.value.is_null()) continue;
    if (m.value.is_object()) {
      size += written_size(m.value);
    } else {
      size += string_size(m.key) + 1 + serialized_size(m.value);
    }
  }
  return size;
}

void write_metadata_at(writer& w, const node& n, std::int64_t ts) {
  switch (n.k) {
    case kind::object:
      w.begin_object();
      for (const auto& m : n.members) {
        w.key(m.key);
        write_metadata_at(w, m.value, ts);
      }
      w.end_object();
      return;
    case kind::array:
      w.begin_array();
      for (const auto& v : n.members) write_metadata_at(w, v.value, ts);
      w.end_array();
      return;
    default: write_leaf_metadata(w, ts);
  }
}

void write_metadata(writer& w, const node& n) {
  if (n.is_array()) {
    write_metadata_at(w, n, n.ts);
  } else if (n.is_object()) {
    w.begin_object();
    for (const auto& m : n.members) {
      w.key(m.key);
      write_metadata(w, m.value);
    }
    w.end_object();
  } else {
    write_leaf_metadata(w, n.ts);
  }
}

bool mark_delta(const node& desired, const node* reported, std::vector<std::uint8_t>& marks) {
  bool any = false;
  for (const auto& m : desired.members) {
    if (m.value.is_object() && m.value.members.empty()) {  // {} desires nothing
      marks.push_back(delta_skip);
      continue;
    }
    const node* r = reported != nullptr ? find(*reported, m.key) : nullptr;
    if (r != nullptr && m.value.is_object() && r->is_object()) {
      const std::size_t at = marks.size();
      marks.push_back(delta_descend);
      if (mark_delta(m.value, r, marks)) {
        any = true;
      } else {
        marks.resize(at);
        marks.push_back(delta_skip);
      }
    } else if (r == nullptr || !equal(m.value, *r)) {
      marks.push_back(delta_whole);
      any = true;
    } else {
      marks.push_back(delta_skip);
    }
  }
  return any;
}

namespace {

template <bool Metadata>
void write_marked(writer& w, const node& desired, const std::vector<std::uint8_t>& marks,
                  std::size_t& pos) {
  w.begin_object();
  for (const auto& m : desired.members) {
    const std::uint8_t mark = marks[pos++];
    if (mark == delta_skip) continue;
    w.key(m.key);
    if (mark == delta_descend) {
      write_marked<Metadata>(w, m.value, marks, pos);
    } else if constexpr (Metadata) {
      write_metadata(w, m.value);
    } else {
      w.value(m.value);
    }
  }
  w.end_object();
}

void write_sections(writer& w, const shadow_state& s, bool metadata) {
  w.begin_object();
  if (s.desired.is_object()) {
    w.key("desired");
    metadata ? write_metadata(w, s.desired) : void(w.value(s.desired));
  }
  if (s.reported.is_object()) {
    w.key("reported");
    metadata ? write_metadata(w, s.reported) : void(w.value(s.reported));
  }
  w.end_object();
}

}  // namespace

void write_delta(writer& w, const node& desired, const std::vector<std::uint8_t>& marks) {
  std::size_t pos = 0;
  write_marked<false>(w, desired, marks, pos);
}

void write_delta_metadata(writer& w, const node& desired, const std::vector<std::uint8_t>& marks) {
  std::size_t pos = 0;
  write_marked<true>(w, desired, marks, pos);
}

void write_snapshot(writer& w, const shadow_state& s) {
  w.begin_object().key("state");
  write_sections(w, s, false);
  w.key("metadata");
  write_sections(w, s, true);
  w.key("version").value(s.version).end_object();
}

}  // namespace iotblocks::shadow::detail
