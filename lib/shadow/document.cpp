#include <iotblocks/core/error.hpp>
#include <iotblocks/core/utf8.hpp>
#include <iotblocks/shadow/document.hpp>

#include "shadow/document_state.hpp"

#include <cmath>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/format.h>

namespace iotblocks::shadow {

using detail::kind;
using detail::node;
using detail::shadow_state;
using detail::writer;

namespace {

// A non-negative integral number as int64 (1 and 1.0 alike), or nothing.
std::optional<std::int64_t> as_version(const node& n) noexcept {
  if (n.k == kind::int64) return n.i >= 0 ? std::optional(n.i) : std::nullopt;
  if (n.k == kind::real && n.d >= 0 && n.d < 9223372036854775808.0 && std::trunc(n.d) == n.d) {
    return static_cast<std::int64_t>(n.d);
  }
  return std::nullopt;
}

// The request's clientToken: absent/null is none; anything but a short string is invalid.
struct token_check {
  std::string_view token;
  bool valid = true;
};
token_check check_token(const node& root, const limits& l) noexcept {
  const node* t = detail::find(root, "clientToken");
  if (t == nullptr || t->is_null()) return {};
  if (t->k != kind::string || t->s.size() > l.max_client_token()) return {{}, false};
  return {t->s, true};
}

void end_response(writer& w, std::int64_t now, std::string_view token) {
  w.key("timestamp").value(now);
  if (!token.empty()) w.key("clientToken").value(token);
  w.end_object();
}

std::string snapshot_of(const shadow_state& s) {
  std::string out;
  {
    writer w(out);  // complete when destroyed
    detail::write_snapshot(w, s);
  }
  return out;
}

std::string not_found_message(std::string_view label) {
  return fmt::format("No shadow exists with name: '{}'", label);
}

// Copies leaf timestamps from a stored document's metadata onto its state.
void stamp_from(node& n, const node* meta, std::int64_t fallback) {
  if (n.is_object()) {
    for (auto& m : n.members) {
      const node* child =
          meta != nullptr && meta->is_object() ? detail::find(*meta, m.key) : nullptr;
      stamp_from(m.value, child, fallback);
    }
    return;
  }
  // Leaves have {"timestamp":T}; arrays an array of those (all equal): take the first.
  while (meta != nullptr && meta->is_array()) {
    meta = meta->members.empty() ? nullptr : &meta->members.front().value;
  }
  while (meta != nullptr && meta->is_object() && detail::find(*meta, "timestamp") == nullptr) {
    meta = meta->members.empty() ? nullptr : &meta->members.front().value;
  }
  const node* ts =
      meta != nullptr && meta->is_object() ? detail::find(*meta, "timestamp") : nullptr;
  n.ts = ts != nullptr && ts->k == kind::int64 ? ts->i : fallback;
}

bool has_null(const node& n) noexcept {
  if (n.is_null()) return true;
  for (const auto& m : n.members) {
    if (has_null(m.value)) return true;
  }
  return false;
}

}  // namespace

outcome rejection(std::error_code ec, std::string_view message, std::int64_t now,
                  std::string_view client_token) {
  outcome out;
  out.error = ec;
  out.status = http_status(ec);
  out.client_token = std::string(client_token);
  const std::string text = message.empty() ? ec.message() : std::string(message);
  {
    writer w(out.body);
    w.begin_object().key("code").value(std::int64_t{out.status});
    w.key("message").value(text);
    end_response(w, now, client_token);
  }
  return out;
}

std::string client_token_of(std::string_view request, const limits& l) {
  if (request.empty() || request.size() > l.max_request_size() || !is_valid_utf8(request)) {
    return {};
  }
  auto root = detail::parse(request, l.max_depth() + 1);
  if (!root || !root->is_object()) return {};
  auto t = check_token(*root, l);
  return t.valid ? std::string(t.token) : std::string{};
}

document::document() : s_(std::make_unique<shadow_state>()) {}
document::~document() = default;
document::document(const document& other) : s_(std::make_unique<shadow_state>(*other.s_)) {}
document& document::operator=(const document& other) {
  if (this != &other) *s_ = *other.s_;
  return *this;
}
document::document(document&& other) noexcept : s_(std::make_unique<shadow_state>()) {
  std::swap(s_, other.s_);
}
document& document::operator=(document&& other) noexcept {
  std::swap(s_, other.s_);
  return *this;
}

bool document::exists() const noexcept { return s_->exists; }
std::int64_t document::version() const noexcept { return s_->version; }
std::int64_t document::deleted_at() const noexcept { return s_->deleted_at; }

result<document> document::parse(std::string_view json, const limits& l) {
  auto parsed = detail::parse(json, l.max_depth() + 3);  // root, metadata, {"timestamp"}
  if (!parsed) return std::move(parsed).take_failure();
  document doc;
  const node& root = *parsed;
  if (root.is_null()) return doc;
  auto invalid = [](std::error_code ec, std::string message) -> result<document> {
    return {ec, std::move(message)};
  };
  if (!root.is_object()) return invalid(error::invalid_json, "a shadow document must be an object");
  shadow_state& s = *doc.s_;
  if (const node* v = detail::find(root, "version"); v != nullptr) {
    auto version = as_version(*v);
    if (!version) return invalid(error::invalid_version, "Invalid version");
    s.version = *version;
  }
  if (const node* d = detail::find(root, "deletedAt"); d != nullptr) {
    if (d->k != kind::int64) return invalid(error::invalid_json, "deletedAt must be an integer");
    s.deleted_at = d->i;
    return doc;
  }
  const node* state = detail::find(root, "state");
  if (state == nullptr || state->is_null()) {
    s.exists = s.version > 0;
    return doc;
  }
  if (!state->is_object()) return invalid(error::state_not_object, "State node must be an object");
  const node* ts = detail::find(root, "timestamp");
  const std::int64_t fallback = ts != nullptr && ts->k == kind::int64 ? ts->i : 0;
  const node* meta = detail::find(root, "metadata");
  for (const auto& m : state->members) {
    node* section = nullptr;
    error not_object = error::desired_not_object;
    if (m.key == "desired") {
      section = &s.desired;
    } else if (m.key == "reported") {
      section = &s.reported;
      not_object = error::reported_not_object;
    } else if (m.key == "delta") {
      continue;  // derived, recomputed
    } else {
      return invalid(error::invalid_state_node,
                     fmt::format("State contains an invalid node: '{}'", m.key));
    }
    if (m.value.is_null()) continue;
    if (!m.value.is_object()) return invalid(not_object, make_error_code(not_object).message());
    if (has_null(m.value)) return invalid(error::invalid_json, "a stored shadow holds no null");
    if (m.value.members.empty()) continue;
    *section = m.value;
    const node* section_meta =
        meta != nullptr && meta->is_object() ? detail::find(*meta, m.key) : nullptr;
    stamp_from(*section, section_meta, fallback);
  }
  s.exists = true;
  if (s.version == 0) s.version = 1;
  s.size_bound = detail::state_size(s);
  return doc;
}

std::string document::to_storage() const {
  const shadow_state& s = *s_;
  if (s.exists) return snapshot_of(s);
  if (s.version == 0) return "null";
  return fmt::format(R"({{"version":{},"deletedAt":{}}})", s.version, s.deleted_at);
}

outcome document::update(std::string_view request, std::int64_t now, const limits& l,
                         const outputs& what) {
  if (request.size() > l.max_request_size()) {
    return rejection(error::payload_too_large, {}, now);
  }
  if (!is_valid_utf8(request)) return rejection(error::unsupported_encoding, {}, now);
  auto parsed = detail::parse(request, l.max_depth() + 1, true);  // + the root object
  if (!parsed) {
    if (parsed.error() == core::error::json_too_deep) {
      return rejection(
          error::too_deep,
          fmt::format("JSON contains too many levels of nesting; maximum is {}", l.max_depth()),
          now);
    }
    return rejection(error::invalid_json, {}, now);
  }
  const node& root = *parsed;
  if (!root.is_object()) return rejection(error::invalid_json, {}, now);
  const token_check tok = check_token(root, l);
  if (!tok.valid) return rejection(error::invalid_client_token, {}, now);
  const std::string_view token = tok.token;

  std::optional<std::int64_t> expected;
  if (const node* v = detail::find(root, "version"); v != nullptr && !v->is_null()) {
    expected = as_version(*v);
    if (!expected) return rejection(error::invalid_version, {}, now, token);
  }
  const node* state = detail::find(root, "state");
  if (state == nullptr) return rejection(error::missing_state, {}, now, token);
  static const node absent;
  const node* desired = &absent;
  const node* reported = &absent;
  bool touch_desired = false;
  bool touch_reported = false;
  if (state->is_null()) {
    touch_desired = touch_reported = true;  // {"state": null} clears the whole state
  } else if (!state->is_object()) {
    return rejection(error::state_not_object, {}, now, token);
  } else {
    for (const auto& m : state->members) {
      if (m.key == "desired") {
        desired = &m.value;
        touch_desired = true;
      } else if (m.key == "reported") {
        reported = &m.value;
        touch_reported = true;
      } else {
        return rejection(error::invalid_state_node,
                         fmt::format("State contains an invalid node: '{}'", m.key), now, token);
      }
    }
    if (!desired->is_null() && !desired->is_object()) {
      return rejection(error::desired_not_object, {}, now, token);
    }
    if (!reported->is_null() && !reported->is_object()) {
      return rejection(error::reported_not_object, {}, now, token);
    }
    if (detail::null_in_array(*state)) return rejection(error::invalid_json, {}, now, token);
  }

  shadow_state& s = *s_;
  const bool remembered =
      !s.exists && s.version > 0 && now - s.deleted_at <= l.version_retention().count();
  const std::int64_t current = s.exists || remembered ? s.version : 0;
  if (expected && *expected != current) {
    return rejection(error::version_conflict, {}, now, token);
  }
  const std::size_t max = l.max_document_size();
  const std::size_t patch_size = (desired->is_object() ? detail::serialized_size(*desired) : 0) +
                                 (reported->is_object() ? detail::serialized_size(*reported) : 0);
  if (patch_size > max && (desired->is_object() ? detail::written_size(*desired) : 0) +
                                  (reported->is_object() ? detail::written_size(*reported) : 0) >
                              max) {
    return rejection(error::payload_too_large, {}, now, token);
  }

  std::string previous;
  if (what.documents) {
    if (!s.exists) {
      previous = "null";
    } else if (s.snapshot_version == s.version && !s.snapshot.empty()) {
      previous = std::move(s.snapshot);
    } else {
      previous = snapshot_of(s);
    }
  }
  s.snapshot.clear();
  s.snapshot_version = 0;
  if (!s.exists) {  // (re-)created: start from nothing
    s.desired = node{};
    s.reported = node{};
    s.size_bound = 0;
  }
  auto apply = [&](shadow_state& target) {
    if (touch_desired) detail::merge_section(target.desired, *desired, now);
    if (touch_reported) detail::merge_section(target.reported, *reported, now);
  };
  if (s.size_bound + patch_size > max && !s.size_exact) {
    s.size_bound = detail::state_size(s);
    s.size_exact = true;
  }
  if (s.size_bound + patch_size <= max) {  // merge can't exceed: change in place
    apply(s);
    s.size_bound += patch_size;
    s.size_exact = false;
  } else {  // near the limit: merge a copy, measure, then keep or reject
    shadow_state copy;
    copy.desired = s.desired;
    copy.reported = s.reported;
    apply(copy);
    const std::size_t size = detail::state_size(copy);
    if (size > max) return rejection(error::payload_too_large, {}, now, token);
    s.desired = std::move(copy.desired);
    s.reported = std::move(copy.reported);
    s.size_bound = size;
    s.size_exact = true;
  }
  s.exists = true;
  s.deleted_at = 0;
  s.version = current + 1;

  outcome out;
  out.client_token = std::string(token);
  if (what.response) {
    out.body.reserve(request.size() * 2 + 96);
    writer w(out.body);
    w.begin_object().key("state").value(*state).key("metadata");
    detail::write_metadata_at(w, *state, now);
    w.key("version").value(s.version);
    end_response(w, now, token);
  }
  const node* rep = s.reported.is_object() ? &s.reported : nullptr;
  thread_local std::vector<std::uint8_t> marks;
  marks.clear();
  if (what.delta && s.desired.is_object() && detail::mark_delta(s.desired, rep, marks)) {
    out.delta.reserve(512);
    writer w(out.delta);
    w.begin_object().key("version").value(s.version).key("timestamp").value(now).key("state");
    detail::write_delta(w, s.desired, marks);
    w.key("metadata");
    detail::write_delta_metadata(w, s.desired, marks);
    if (!token.empty()) w.key("clientToken").value(token);
    w.end_object();
  }
  if (what.documents) {
    s.snapshot = snapshot_of(s);
    s.snapshot_version = s.version;
    writer w(out.documents);
    w.begin_object().key("previous").raw(previous).key("current").raw(s.snapshot);
    end_response(w, now, token);
  }
  return out;
}

outcome document::get(std::string_view request, std::int64_t now, std::string_view label,
                      const limits& l, const outputs& what) const {
  const std::string token = client_token_of(request, l);
  const shadow_state& s = *s_;
  if (!s.exists) return rejection(error::shadow_not_found, not_found_message(label), now, token);
  outcome out;
  out.client_token = token;
  if (!what.response) return out;
  {
    writer w(out.body);
    w.begin_object().key("state").begin_object();
    if (s.desired.is_object()) w.key("desired").value(s.desired);
    if (s.reported.is_object()) w.key("reported").value(s.reported);
    const node* rep = s.reported.is_object() ? &s.reported : nullptr;
    thread_local std::vector<std::uint8_t> marks;
    marks.clear();
    if (s.desired.is_object() && detail::mark_delta(s.desired, rep, marks)) {
      w.key("delta");
      detail::write_delta(w, s.desired, marks);
    }
    w.end_object().key("metadata").begin_object();
    if (s.desired.is_object()) {
      w.key("desired");
      detail::write_metadata(w, s.desired);
    }
    if (s.reported.is_object()) {
      w.key("reported");
      detail::write_metadata(w, s.reported);
    }
    w.end_object().key("version").value(s.version);
    end_response(w, now, token);
  }
  return out;
}

outcome document::remove(std::string_view request, std::int64_t now, std::string_view label,
                         const limits& l, const outputs& what) {
  const std::string token = client_token_of(request, l);
  shadow_state& s = *s_;
  if (!s.exists) return rejection(error::shadow_not_found, not_found_message(label), now, token);
  s.exists = false;
  s.deleted_at = now;
  s.desired = node{};
  s.reported = node{};
  s.snapshot.clear();
  s.snapshot_version = 0;
  s.size_bound = 0;
  s.size_exact = true;
  outcome out;
  out.client_token = token;
  if (what.response) {
    writer w(out.body);
    w.begin_object().key("version").value(s.version);
    end_response(w, now, token);
  }
  return out;
}

}  // namespace iotblocks::shadow
