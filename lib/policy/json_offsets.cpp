#include "policy/json_offsets.hpp"

namespace iotblocks::policy::detail {

json_offsets::json_offsets(const rapidjson::Value& root, std::string_view text) : text_(text) {
  walk(root);
}

std::size_t json_offsets::of(const rapidjson::Value& v) const noexcept {
  const auto it = offsets_.find(&v);
  return it == offsets_.end() ? 0 : it->second;
}

void json_offsets::skip_ws() noexcept {
  while (at_ < text_.size() &&
         (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r')) {
    ++at_;
  }
}

void json_offsets::skip_string() noexcept {
  ++at_;  // opening quote
  while (at_ < text_.size() && text_[at_] != '"') at_ += text_[at_] == '\\' ? 2 : 1;
  ++at_;  // closing quote
}

// Recursion depth is bounded by the depth limit the DOM was parsed with.
void json_offsets::walk(const rapidjson::Value& v) {
  skip_ws();
  offsets_[&v] = at_;
  if (v.IsObject()) {
    ++at_;  // '{'
    for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
      skip_ws();
      if (at_ < text_.size() && text_[at_] == ',') ++at_, skip_ws();
      offsets_[&m->name] = at_;
      skip_string();
      skip_ws();
      ++at_;  // ':'
      walk(m->value);
    }
    skip_ws();
    ++at_;  // '}'
  } else if (v.IsArray()) {
    ++at_;  // '['
    for (const auto& e : v.GetArray()) {
      skip_ws();
      if (at_ < text_.size() && text_[at_] == ',') ++at_;
      walk(e);
    }
    skip_ws();
    ++at_;  // ']'
  } else if (v.IsString()) {
    skip_string();
  } else {
    while (at_ < text_.size() && text_[at_] != ',' && text_[at_] != '}' && text_[at_] != ']' &&
           text_[at_] != ' ' && text_[at_] != '\n' && text_[at_] != '\t' && text_[at_] != '\r') {
      ++at_;
    }
  }
}

}  // namespace iotblocks::policy::detail
