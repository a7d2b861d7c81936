// Packets -> JSON (the CLI's format), straight through a RapidJSON writer.
#include <iotblocks/core/error.hpp>
#include <iotblocks/core/utf8.hpp>
#include <iotblocks/mqtt/json.hpp>

#include "core/json.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <initializer_list>

namespace iotblocks::mqtt {
namespace {
// ------------------------------------------------------------------ writing

class out {
 public:
  out() : w_(sb_) {}
  std::string take() { return {sb_.GetString(), sb_.GetSize()}; }

  void key(std::string_view k) { w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size())); }
  void str(std::string_view s) { w_.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }
  void field(std::string_view k, std::string_view s) { key(k), str(s); }
  void field(std::string_view k, std::uint64_t n) { key(k), w_.Uint64(n); }
  void flag(std::string_view k, bool b) { key(k), w_.Bool(b); }
  /// Text when `b` is UTF-8 without U+0000, else base64 under "<k>_base64".
  void binary(std::string_view k, bytes_view b) {
    const std::string_view s = as_string_view(b);
    if (is_valid_utf8(s, false)) return field(k, s);
    field(std::string{k} + "_base64", to_base64(b));
  }
  void begin() { w_.StartObject(); }
  void end() { w_.EndObject(); }
  void begin_array() { w_.StartArray(); }
  void end_array() { w_.EndArray(); }
  void number(std::uint64_t n) { w_.Uint64(n); }

  template <class Props>
  void props(const Props& list, protocol_version v) {
    const properties_view p{list.bytes()};
    if (v != protocol_version::v5 || p.empty()) return;
    key("properties");
    begin_array();
    for (const property& x : p.all()) {
      begin();
      const std::string_view n = name(x.id);
      switch (type_of(x.id)) {
        case property_type::utf8_string: field(n, x.text); break;
        case property_type::binary_data: binary(n, x.data); break;
        case property_type::utf8_string_pair:
          key(n);
          begin_array();
          str(x.name);
          str(x.value);
          end_array();
          break;
        default: field(n, x.number);
      }
      end();
    }
    end_array();
  }
  void form(response_form f) {
    if (f == response_form::reason_code) field("form", "reason_code");
    if (f == response_form::properties) field("form", "properties");
  }
  template <class Codes>
  void reasons(std::string_view k, const Codes& codes) {
    key(k);
    begin_array();
    for (reason_code rc : codes) number(static_cast<std::uint8_t>(rc));
    end_array();
  }

 private:
  rapidjson::StringBuffer sb_;
  rapidjson::Writer<rapidjson::StringBuffer> w_;
};

bool is_v5(protocol_version v) { return v == protocol_version::v5; }

template <class S>
void body(out& o, const basic_connect<S>& p, protocol_version) {
  o.field("protocol", name(p.version));
  o.flag("clean_start", p.clean_start);
  o.field("keep_alive", p.keep_alive);
  o.field("client_id", p.client_id);
  o.props(p.properties, p.version);
  if (p.will) {
    o.key("will");
    o.begin();
    o.field("topic", p.will->topic);
    o.field("qos", p.will->qos);
    o.flag("retain", p.will->retain);
    o.props(p.will->properties, p.version);
    o.binary("payload", p.will->payload);
    o.end();
  }
  if (p.username) o.field("username", *p.username);
  if (p.password) o.binary("password", *p.password);
}
template <class S>
void body(out& o, const basic_connack<S>& p, protocol_version v) {
  o.flag("session_present", p.session_present);
  o.field("reason_code", static_cast<std::uint8_t>(p.reason));
  o.props(p.properties, v);
}
template <class S>
void body(out& o, const basic_publish<S>& p, protocol_version v) {
  o.field("topic", p.topic);
  o.field("qos", p.qos);
  o.flag("retain", p.retain);
  o.flag("dup", p.dup);
  if (p.qos != 0) o.field("packet_id", p.packet_id);
  o.props(p.properties, v);
  o.binary("payload", p.payload);
}
template <packet_type T, class S>
void body(out& o, const basic_publish_response<T, S>& p, protocol_version v) {
  o.field("packet_id", p.packet_id);
  if (!is_v5(v)) return;
  o.field("reason_code", static_cast<std::uint8_t>(p.reason));
  o.form(p.form);
  o.props(p.properties, v);
}
template <class S>
void body(out& o, const basic_subscribe<S>& p, protocol_version v) {
  o.field("packet_id", p.packet_id);
  o.props(p.properties, v);
  o.key("subscriptions");
  o.begin_array();
  for (const auto& s : p.subscriptions) {
    o.begin();
    o.field("filter", s.filter);
    o.field("qos", s.options.qos);
    if (is_v5(v)) {
      o.flag("no_local", s.options.no_local);
      o.flag("retain_as_published", s.options.retain_as_published);
      o.field("retain_handling", s.options.retain_handling);
    }
    o.end();
  }
  o.end_array();
}
template <class S>
void body(out& o, const basic_suback<S>& p, protocol_version v) {
  o.field("packet_id", p.packet_id);
  o.props(p.properties, v);
  o.reasons("reason_codes", p.reason_codes);
}
template <class S>
void body(out& o, const basic_unsubscribe<S>& p, protocol_version v) {
  o.field("packet_id", p.packet_id);
  o.props(p.properties, v);
  o.key("filters");
  o.begin_array();
  for (const auto& f : p.filters) o.str(f);
  o.end_array();
}
template <class S>
void body(out& o, const basic_unsuback<S>& p, protocol_version v) {
  o.field("packet_id", p.packet_id);
  if (!is_v5(v)) return;
  o.props(p.properties, v);
  o.reasons("reason_codes", p.reason_codes);
}
template <packet_type T, class S>
void body(out&, const basic_ping<T, S>&, protocol_version) {}
template <class P>
void reason_body(out& o, const P& p, protocol_version v) {
  if (!is_v5(v)) return;
  o.field("reason_code", static_cast<std::uint8_t>(p.reason));
  o.form(p.form);
  o.props(p.properties, v);
}
template <class S>
void body(out& o, const basic_disconnect<S>& p, protocol_version v) {
  reason_body(o, p, v);
}
template <class S>
void body(out& o, const basic_auth<S>& p, protocol_version v) {
  reason_body(o, p, v);
}

template <class P>
std::string write_json(const P& p, protocol_version v) {
  out o;
  o.begin();
  o.field("type", name(type_of(p)));
  std::visit([&](const auto& x) { body(o, x, v); }, p);
  o.end();
  return o.take();
}

}  // namespace

std::string to_json(const packet_view& p, protocol_version v) { return write_json(p, v); }
std::string to_json(const packet& p, protocol_version v) { return write_json(p, v); }

}  // namespace iotblocks::mqtt
