// Accessors of a compiled document and its canonical JSON form.
#include <iotblocks/policy/document.hpp>

#include "policy/compiled.hpp"

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace iotblocks::policy {
namespace {

const std::vector<warning> no_warnings;

template <class Writer>
void write(Writer& w, const detail::compiled_document& d) {
  auto str = [&](std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()), true);
  };
  auto list = [&](const std::vector<std::string>& items) {
    w.StartArray();
    for (const auto& i : items) str(i);
    w.EndArray();
  };
  w.StartObject();
  str("Version");
  str(d.version);
  if (!d.id.empty()) {
    str("Id");
    str(d.id);
  }
  str("Statement");
  w.StartArray();
  for (const auto& st : d.statements) {
    w.StartObject();
    if (!st.sid.empty()) {
      str("Sid");
      str(st.sid);
    }
    str("Effect");
    str(st.eff == effect::allow ? "Allow" : "Deny");
    if (st.has_principal) {
      str("Principal");
      if (st.principal_texts.size() == 1 && st.principal_texts[0].first == "*") {
        str("*");
      } else {
        w.StartObject();
        for (const auto& [type, values] : st.principal_texts) {
          str(type);
          list(values);
        }
        w.EndObject();
      }
    }
    str(st.not_action ? "NotAction" : "Action");
    list(st.action_texts);
    str(st.not_resource ? "NotResource" : "Resource");
    list(st.resource_texts);
    if (!st.conditions.empty()) {
      str("Condition");
      w.StartObject();
      // Conditions of one operator are stored next to each other, in document order.
      for (std::size_t i = 0; i < st.conditions.size();) {
        const std::string& op = st.conditions[i].op_text;
        str(op);
        w.StartObject();
        for (; i < st.conditions.size() && st.conditions[i].op_text == op; ++i) {
          str(st.conditions[i].key_text);
          list(st.conditions[i].value_texts);
        }
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

}  // namespace

document_kind document::kind() const noexcept {
  return impl_ ? impl_->kind : document_kind::identity;
}

std::string_view document::version() const noexcept {
  return impl_ ? std::string_view{impl_->version} : std::string_view{};
}

std::size_t document::statement_count() const noexcept {
  return impl_ ? impl_->statements.size() : 0;
}

statement_info document::statement(std::size_t i) const noexcept {
  if (!impl_ || i >= impl_->statements.size()) return {};
  const auto& st = impl_->statements[i];
  return {i, st.sid, st.eff, st.where};
}

const std::vector<warning>& document::warnings() const noexcept {
  return impl_ ? impl_->warnings : no_warnings;
}

std::string document::to_json(bool pretty) const {
  if (!impl_) return {};
  rapidjson::StringBuffer buffer;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
    w.SetIndent(' ', 2);
    write(w, *impl_);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
    write(w, *impl_);
  }
  return {buffer.GetString(), buffer.GetSize()};
}

}  // namespace iotblocks::policy
