// Decoding and validation of packet bodies. Section numbers are MQTT 5.0's;
// 3.1.1 rules are the same where the versions agree.
#include "mqtt/decode.hpp"

#include <iotblocks/core/utf8.hpp>
#include <iotblocks/topic/syntax.hpp>

#include "mqtt/wire.hpp"

#include <initializer_list>

namespace iotblocks::mqtt::detail {
namespace {

constexpr std::size_t npos = static_cast<std::size_t>(-1);

constexpr std::uint64_t bit(property_id id) noexcept {
  return std::uint64_t{1} << static_cast<unsigned>(id);
}
template <class... Ids>
constexpr std::uint64_t bits(Ids... ids) noexcept {
  return (bit(ids) | ...);
}

// Where a property list sits; decides which identifiers are allowed (2.2.2.2).
enum class props_at : std::uint8_t {
  connect,
  will,
  connack,
  publish,
  response,  // PUBACK, PUBREC, PUBREL, PUBCOMP
  subscribe,
  suback,
  unsubscribe,
  unsuback,
  disconnect,
  auth,
};

constexpr std::uint64_t allowed(props_at where) noexcept {
  using P = property_id;
  const std::uint64_t user = bit(P::user_property);
  switch (where) {
    case props_at::connect:
      return user | bits(P::session_expiry_interval, P::authentication_method,
                         P::authentication_data, P::request_problem_information,
                         P::request_response_information, P::receive_maximum,
                         P::topic_alias_maximum, P::maximum_packet_size);
    case props_at::will:
      return user | bits(P::payload_format_indicator, P::message_expiry_interval, P::content_type,
                         P::response_topic, P::correlation_data, P::will_delay_interval);
    case props_at::connack:
      return user | bits(P::session_expiry_interval, P::assigned_client_identifier,
                         P::server_keep_alive, P::authentication_method, P::authentication_data,
                         P::response_information, P::server_reference, P::reason_string,
                         P::receive_maximum, P::topic_alias_maximum, P::maximum_qos,
                         P::retain_available, P::maximum_packet_size,
                         P::wildcard_subscription_available, P::subscription_identifiers_available,
                         P::shared_subscription_available);
    case props_at::publish:
      return user | bits(P::payload_format_indicator, P::message_expiry_interval, P::content_type,
                         P::response_topic, P::correlation_data, P::subscription_identifier,
                         P::topic_alias);
    case props_at::response:
    case props_at::suback:
    case props_at::unsuback: return user | bit(P::reason_string);
    case props_at::subscribe: return user | bit(P::subscription_identifier);
    case props_at::unsubscribe: return user;
    case props_at::disconnect:
      return user | bits(P::session_expiry_interval, P::server_reference, P::reason_string);
    case props_at::auth:
      return user | bits(P::authentication_method, P::authentication_data, P::reason_string);
  }
  return 0;
}

bool in(std::uint8_t c, std::initializer_list<std::uint8_t> set) noexcept {
  for (auto x : set) {
    if (x == c) return true;
  }
  return false;
}

topic::limits topic_limits(const decoder_limits& l) noexcept {
  return {l.max_topic_length, l.max_topic_levels};
}

// One body being decoded. Every check fails through fail(), which records the
// error and the body offset of the field at fault.
class body_decoder {
 public:
  body_decoder(bytes_view body, const body_context& ctx, body_error& err) noexcept
      : r_{body.data(), 0, body.size()},
        ctx_(ctx),
        err_(err),
        v_(ctx.version.value_or(protocol_version::v5)),
        sender_(ctx.self == role::server ? role::client : role::server) {}

  bool connect(connect_view& p) noexcept;
  bool connack(connack_view& p) noexcept;
  bool publish(std::uint8_t first, publish_view& p) noexcept;
  template <packet_type T>
  bool publish_response(basic_publish_response<T, view_storage>& p) noexcept;
  bool subscribe(subscribe_view& p) noexcept;
  bool suback(suback_view& p) noexcept;
  bool unsubscribe(unsubscribe_view& p) noexcept;
  bool unsuback(unsuback_view& p) noexcept;
  bool empty() noexcept { return finish(); }
  bool disconnect(disconnect_view& p) noexcept;
  bool auth(auth_view& p) noexcept;

 private:
  bool fail(error e, std::size_t at, const char* detail = nullptr) noexcept {
    err_.code = e;
    err_.at = at;
    err_.detail = detail;
    return false;
  }
  bool finish() noexcept { return r_.at_end() || fail(error::trailing_bytes, r_.pos); }
  bool v5() const noexcept { return v_ == protocol_version::v5; }

  bool u8(std::uint8_t& v, const char* what) noexcept {
    return r_.u8(v) || fail(error::truncated, r_.pos, what);
  }
  bool u16(std::uint16_t& v, const char* what) noexcept {
    return r_.u16(v) || fail(error::truncated, r_.pos, what);
  }
  bool packet_id(std::uint16_t& id) noexcept {
    const std::size_t at = r_.pos;
    if (!u16(id, "packet identifier")) return false;
    return id != 0 || fail(error::packet_id_zero, at);
  }
  // A UTF-8 string (1.5.4): well-formed, no U+0000.
  bool string(std::string_view& s, const char* what) noexcept {
    const std::size_t at = r_.pos;
    if (!r_.string(s)) return fail(error::truncated, at, what);
    const std::size_t bad = utf8_check(s, false);
    return bad == utf8_ok || fail(error::utf8_invalid, at + 2 + bad, what);
  }
  bool binary(bytes_view& b, const char* what) noexcept {
    return r_.binary(b) || fail(error::truncated, r_.pos, what);
  }
  bool topic_name(std::string_view& name, const char* what) noexcept;
  bool topic_filter(std::string_view& filter, std::size_t at) noexcept;
  bool reason(packet_type t, reason_code& rc) noexcept {
    const std::size_t at = r_.pos;
    std::uint8_t c;
    if (!u8(c, "reason code")) return false;
    if (!reason_allowed(t, c, sender_)) return fail(error::reason_code_invalid, at);
    rc = static_cast<reason_code>(c);
    return true;
  }
  bool props(props_at where, properties_view& out) noexcept;
  bool property_value(std::uint8_t id, wire::reader& p) noexcept;
  bool payload_utf8(bytes_view payload, const properties_view& props, std::size_t at) noexcept {
    if (!ctx_.limits.validate_payload_utf8 || props.payload_format_indicator() != 1) return true;
    const std::size_t bad = utf8_check(as_string_view(payload), true);
    return bad == utf8_ok || fail(error::payload_format_invalid, at + bad);
  }

  wire::reader r_;
  const body_context& ctx_;
  body_error& err_;
  protocol_version v_;
  role sender_;
  std::uint64_t seen_ = 0;  // property identifiers of the last list
};

bool body_decoder::topic_name(std::string_view& name, const char* what) noexcept {
  const std::size_t at = r_.pos;
  if (!r_.string(name)) return fail(error::truncated, at, what);
  if (name.empty()) return true;  // the caller decides (topic alias)
  const std::error_code ec = topic::validate_name_fast(name, topic_limits(ctx_.limits));
  if (!ec) return true;
  if (ec == topic::error::invalid_utf8) {
    return fail(error::utf8_invalid, at + 2 + utf8_check(name, false), what);
  }
  return fail(error::topic_name_invalid, at, what);
}

bool body_decoder::topic_filter(std::string_view& filter, std::size_t at) noexcept {
  const std::error_code ec = topic::validate_filter_fast(filter, topic_limits(ctx_.limits));
  return !ec || fail(error::topic_filter_invalid, at, "topic filter");
}

bool body_decoder::props(props_at where, properties_view& out) noexcept {
  seen_ = 0;
  if (!v5()) return true;
  const std::size_t at = r_.pos;
  std::uint32_t length;
  switch (r_.variable_integer(length)) {
    case wire::status::ok: break;
    case wire::status::incomplete: return fail(error::truncated, at, "property length");
    case wire::status::invalid: return fail(error::variable_integer_invalid, at, "property length");
  }
  if (length > r_.left()) return fail(error::truncated, at, "property length");
  const std::size_t start = r_.pos;
  wire::reader p{r_.data, start, start + length};
  const std::uint64_t permitted = allowed(where);
  const auto& limits = ctx_.limits;
  std::size_t count = 0, users = 0, auth_data_at = npos;
  while (!p.at_end()) {
    const std::size_t pat = p.pos;
    std::uint8_t id = 0;
    p.u8(id);
    if (!is_known(id) || (permitted & (std::uint64_t{1} << id)) == 0) {
      return fail(error::property_invalid, pat, name(static_cast<property_id>(id)).data());
    }
    const auto pid = static_cast<property_id>(id);
    if (++count > limits.max_properties) return fail(error::limit_exceeded, pat, "properties");
    const bool repeatable =
        pid == property_id::user_property ||
        (pid == property_id::subscription_identifier && where == props_at::publish);
    if ((seen_ & bit(pid)) != 0 && !repeatable) {
      return fail(error::property_duplicate, pat, name(pid).data());
    }
    seen_ |= bit(pid);
    if (pid == property_id::user_property && ++users > limits.max_user_properties) {
      return fail(error::limit_exceeded, pat, "user properties");
    }
    if ((pid == property_id::subscription_identifier && where == props_at::publish &&
         sender_ == role::client) ||
        (pid == property_id::session_expiry_interval && where == props_at::disconnect &&
         sender_ == role::server)) {
      return fail(error::property_sender_invalid, pat, name(pid).data());
    }
    if (pid == property_id::authentication_data) auth_data_at = pat;
    if (!property_value(id, p)) return false;
  }
  if (auth_data_at != npos && (seen_ & bit(property_id::authentication_method)) == 0) {
    return fail(error::auth_data_without_method, auth_data_at);
  }
  r_.pos = p.end;
  out = properties_view{bytes_view{r_.data + start, length}};
  return true;
}

bool body_decoder::property_value(std::uint8_t id, wire::reader& p) noexcept {
  const auto pid = static_cast<property_id>(id);
  const char* what = name(pid).data();
  const std::size_t vat = p.pos;
  switch (type_of(pid)) {
    case property_type::byte: {
      std::uint8_t v;
      if (!p.u8(v)) return fail(error::truncated, vat, what);
      // Every byte property is 0 or 1 (3.1.2.11.6, 3.1.2.11.7, 3.2.2.3.4, ...).
      return v <= 1 || fail(error::property_value_invalid, vat, what);
    }
    case property_type::two_byte_integer: {
      std::uint16_t v;
      if (!p.u16(v)) return fail(error::truncated, vat, what);
      if (pid == property_id::receive_maximum && v == 0) {
        return fail(error::property_value_invalid, vat, what);  // 3.1.2.11.3
      }
      if (pid == property_id::topic_alias && (v == 0 || v > ctx_.limits.topic_alias_maximum)) {
        return fail(error::topic_alias_invalid, vat, what);  // 3.3.2.3.4
      }
      return true;
    }
    case property_type::four_byte_integer: {
      std::uint32_t v;
      if (!p.u32(v)) return fail(error::truncated, vat, what);
      return pid != property_id::maximum_packet_size || v != 0 ||
             fail(error::property_value_invalid, vat, what);  // 3.1.2.11.4
    }
    case property_type::variable_byte_integer: {
      std::uint32_t v;
      switch (p.variable_integer(v)) {
        case wire::status::ok: break;
        case wire::status::incomplete: return fail(error::truncated, vat, what);
        case wire::status::invalid: return fail(error::variable_integer_invalid, vat, what);
      }
      return v != 0 || fail(error::property_value_invalid, vat, what);  // 3.3.2.3.8
    }
    case property_type::utf8_string: {
      std::string_view s;
      if (!p.string(s)) return fail(error::truncated, vat, what);
      const std::size_t bad = utf8_check(s, false);
      if (bad != utf8_ok) return fail(error::utf8_invalid, vat + 2 + bad, what);
      if (pid == property_id::response_topic &&
          topic::validate_name(s, topic_limits(ctx_.limits))) {
        return fail(error::response_topic_invalid, vat, what);  // 3.3.2.3.5
      }
      return true;
    }
    case property_type::binary_data: {
      bytes_view b;
      return p.binary(b) || fail(error::truncated, vat, what);
    }
    case property_type::utf8_string_pair: {
      std::string_view k, v;
      for (std::string_view* s : {&k, &v}) {
        const std::size_t sat = p.pos;
        if (!p.string(*s)) return fail(error::truncated, sat, what);
        const std::size_t bad = utf8_check(*s, false);
        if (bad != utf8_ok) return fail(error::utf8_invalid, sat + 2 + bad, what);
      }
      return true;
    }
  }
  return true;
}

// 3.1: CONNECT.
bool body_decoder::connect(connect_view& p) noexcept {
  const std::size_t name_at = r_.pos;
  std::string_view protocol;
  if (!r_.string(protocol)) return fail(error::truncated, name_at, "protocol name");
  const std::size_t level_at = r_.pos;
  std::uint8_t level;
  if (!u8(level, "protocol level")) return false;
  if (protocol == "MQTT" && (level == 4 || level == 5)) {
    v_ = static_cast<protocol_version>(level);
  } else if (protocol == "MQIsdp" && level == 3) {
    v_ = protocol_version::v3_1;
  } else if (protocol == "MQTT" || protocol == "MQIsdp") {
    return fail(error::protocol_unsupported, level_at, "protocol level");  // 3.1.2-2
  } else {
    return fail(error::protocol_unsupported, name_at, "protocol name");  // 3.1.2-1
  }
  p.version = v_;
  err_.connect_version = v_;  // a refusal from here on can be answered in this version
  const std::size_t flags_at = r_.pos;
  std::uint8_t flags;
  if (!u8(flags, "connect flags")) return false;
  if (flags & 0x01) return fail(error::connect_flags_invalid, flags_at);  // 3.1.2-3
  const bool has_will = (flags & 0x04) != 0;
  const auto will_qos = static_cast<std::uint8_t>((flags >> 3) & 3);
  const bool will_retain = (flags & 0x20) != 0;
  if ((!has_will && (will_qos != 0 || will_retain)) || will_qos == 3) {
    return fail(error::will_flags_invalid, flags_at);  // 3.1.2-11, 3.1.2-12, 3.1.2-13
  }
  const bool has_username = (flags & 0x80) != 0;
  const bool has_password = (flags & 0x40) != 0;
  if (!v5() && has_password && !has_username) {
    return fail(error::password_without_username, flags_at);  // 3.1.1: MQTT-3.1.2-22
  }
  p.clean_start = (flags & 0x02) != 0;
  if (!u16(p.keep_alive, "keep alive")) return false;
  if (!props(props_at::connect, p.properties)) return false;
  const std::size_t id_at = r_.pos;
  if (!string(p.client_id, "client identifier")) return false;
  if (p.client_id.empty() &&
      (v_ == protocol_version::v3_1 || (v_ == protocol_version::v3_1_1 && !p.clean_start))) {
    return fail(error::client_id_invalid, id_at);  // 3.1.1: MQTT-3.1.3-7
  }
  if (has_will) {
    will_view& w = p.will.emplace();
    w.qos = will_qos;
    w.retain = will_retain;
    if (!props(props_at::will, w.properties)) return false;
    const std::size_t topic_at = r_.pos;
    if (!topic_name(w.topic, "will topic")) return false;
    if (w.topic.empty()) return fail(error::topic_name_invalid, topic_at, "will topic");
    const std::size_t payload_at = r_.pos + 2;
    if (!binary(w.payload, "will payload")) return false;
    if (!payload_utf8(w.payload, w.properties, payload_at)) return false;
  }
  if (has_username && !string(p.username.emplace(), "user name")) return false;
  if (has_password && !binary(p.password.emplace(), "password")) return false;
  return finish();
}

// 3.2: CONNACK.
bool body_decoder::connack(connack_view& p) noexcept {
  std::uint8_t flags, code;
  if (!u8(flags, "acknowledge flags")) return false;
  if (flags & 0xFE) return fail(error::connack_flags_invalid, 0);  // 3.2.2.1
  if (!u8(code, "reason code")) return false;
  if (v5() ? !reason_allowed(packet_type::connack, code, sender_) : code > 5) {
    return fail(error::reason_code_invalid, 1);
  }
  p.session_present = (flags & 1) != 0;
  p.reason = static_cast<reason_code>(code);
  if (p.session_present && code != 0) return fail(error::session_present_invalid, 0);  // 3.2.2-6
  return props(props_at::connack, p.properties) && finish();
}

// 3.3: PUBLISH. The hot path.
bool body_decoder::publish(std::uint8_t first, publish_view& p) noexcept {
  p.dup = (first & 0x08) != 0;
  p.qos = static_cast<std::uint8_t>((first >> 1) & 3);
  p.retain = (first & 0x01) != 0;
  const std::size_t topic_at = r_.pos;
  if (!topic_name(p.topic, "topic name")) return false;
  if (p.qos != 0 && !packet_id(p.packet_id)) return false;
  if (!props(props_at::publish, p.properties)) return false;
  if (p.topic.empty() && (seen_ & bit(property_id::topic_alias)) == 0) {
    return fail(error::topic_missing, topic_at);  // 3.3.2.3.4
  }
  const std::size_t payload_at = r_.pos;
  p.payload = {r_.data + r_.pos, r_.left()};
  r_.pos = r_.end;
  return payload_utf8(p.payload, p.properties, payload_at);
}

// 3.4 - 3.7: PUBACK, PUBREC, PUBREL, PUBCOMP.
template <packet_type T>
bool body_decoder::publish_response(basic_publish_response<T, view_storage>& p) noexcept {
  if (!packet_id(p.packet_id)) return false;
  if (v5() && !r_.at_end()) {
    if (!reason(T, p.reason)) return false;
    p.form = response_form::reason_code;
    if (!r_.at_end()) {
      if (!props(props_at::response, p.properties)) return false;
      p.form = response_form::properties;
    }
  }
  return finish();
}

// 3.8: SUBSCRIBE.
bool body_decoder::subscribe(subscribe_view& p) noexcept {
  if (!packet_id(p.packet_id) || !props(props_at::subscribe, p.properties)) return false;
  const std::size_t start = r_.pos;
  std::size_t count = 0;
  while (!r_.at_end()) {
    const std::size_t at = r_.pos;
    std::string_view filter;
    std::uint8_t o;
    if (!string(filter, "topic filter")) return false;
    const std::size_t options_at = r_.pos;
    if (!u8(o, "subscription options")) return false;
    if (++count > ctx_.limits.max_subscriptions) return fail(error::limit_exceeded, at);
    if (o & (v5() ? 0xC0 : 0xFC)) {
      return fail(error::subscription_options_invalid, options_at);  // 3.8.3-5
    }
    if (!topic_filter(filter, at)) return false;
    const auto options = subscribe_options::from_byte(o);
    if (options.qos == 3) {
      return fail(v5() ? error::subscription_qos_invalid : error::subscription_options_invalid,
                  options_at);
    }
    if (options.retain_handling == 3) return fail(error::retain_handling_invalid, options_at);
    if (options.no_local && topic::is_shared(filter)) {
      return fail(error::no_local_on_shared, options_at);  // 3.8.3-4
    }
  }
  if (count == 0) return fail(error::subscriptions_missing, r_.pos);  // 3.8.3-2
  p.subscriptions = subscription_list_view{bytes_view{r_.data + start, r_.pos - start}, count};
  return true;
}

// 3.9: SUBACK.
bool body_decoder::suback(suback_view& p) noexcept {
  if (!packet_id(p.packet_id) || !props(props_at::suback, p.properties)) return false;
  if (r_.at_end()) return fail(error::truncated, r_.pos, "reason codes");
  const std::size_t start = r_.pos;
  for (; !r_.at_end(); ++r_.pos) {
    const auto c = std::to_integer<std::uint8_t>(r_.data[r_.pos]);
    if (v5() ? !reason_allowed(packet_type::suback, c, sender_) : !in(c, {0, 1, 2, 0x80})) {
      return fail(error::reason_code_invalid, r_.pos);
    }
  }
  p.reason_codes = reason_code_list_view{bytes_view{r_.data + start, r_.pos - start}};
  return true;
}

// 3.10: UNSUBSCRIBE.
bool body_decoder::unsubscribe(unsubscribe_view& p) noexcept {
  if (!packet_id(p.packet_id) || !props(props_at::unsubscribe, p.properties)) return false;
  const std::size_t start = r_.pos;
  std::size_t count = 0;
  while (!r_.at_end()) {
    const std::size_t at = r_.pos;
    std::string_view filter;
    if (!string(filter, "topic filter")) return false;
    if (++count > ctx_.limits.max_subscriptions) return fail(error::limit_exceeded, at);
    if (!topic_filter(filter, at)) return false;
  }
  if (count == 0) return fail(error::subscriptions_missing, r_.pos);  // 3.10.3-2
  p.filters = string_list_view{bytes_view{r_.data + start, r_.pos - start}, count};
  return true;
}

// 3.11: UNSUBACK.
bool body_decoder::unsuback(unsuback_view& p) noexcept {
  if (!packet_id(p.packet_id)) return false;
  if (!v5()) return finish();
  if (!props(props_at::unsuback, p.properties)) return false;
  if (r_.at_end()) return fail(error::truncated, r_.pos, "reason codes");
  const std::size_t start = r_.pos;
  for (; !r_.at_end(); ++r_.pos) {
    const auto c = std::to_integer<std::uint8_t>(r_.data[r_.pos]);
    if (!reason_allowed(packet_type::unsuback, c, sender_)) {
      return fail(error::reason_code_invalid, r_.pos);
    }
  }
  p.reason_codes = reason_code_list_view{bytes_view{r_.data + start, r_.pos - start}};
  return true;
}

// 3.14: DISCONNECT.
bool body_decoder::disconnect(disconnect_view& p) noexcept {
  if (v5() && !r_.at_end()) {
    if (!reason(packet_type::disconnect, p.reason)) return false;
    p.form = response_form::reason_code;
    if (!r_.at_end()) {
      if (!props(props_at::disconnect, p.properties)) return false;
      p.form = response_form::properties;
    }
  }
  return finish();
}

// 3.15: AUTH (MQTT 5 only; the first byte check rejects it before).
bool body_decoder::auth(auth_view& p) noexcept {
  if (r_.at_end()) return true;
  if (!reason(packet_type::auth, p.reason)) return false;
  p.form = response_form::reason_code;
  if (!r_.at_end()) {
    if (!props(props_at::auth, p.properties)) return false;
    p.form = response_form::properties;
  }
  if ((seen_ & bit(property_id::authentication_method)) == 0) {
    return fail(error::auth_method_missing, 0);  // 3.15.2.2.2
  }
  return finish();
}

template <class T>
T& fresh(packet_view& out) noexcept {
  return out.emplace<T>();
}

}  // namespace

bool reason_allowed(packet_type t, std::uint8_t c, role sender) noexcept {
  const bool from_server = sender == role::server;
  switch (t) {
    case packet_type::connack:
      return from_server &&
             in(c, {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
                    0x8A, 0x8C, 0x90, 0x95, 0x97, 0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F});
    case packet_type::puback:
    case packet_type::pubrec: return in(c, {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99});
    case packet_type::pubrel:
    case packet_type::pubcomp: return c == 0x00 || c == 0x92;
    case packet_type::suback:
      return from_server &&
             in(c, {0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2});
    case packet_type::unsuback:
      return from_server && in(c, {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91});
    case packet_type::disconnect:
      if (in(c, {0x00, 0x80, 0x81, 0x82, 0x83, 0x90, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99})) {
        return true;
      }
      if (c == 0x04) return !from_server;
      return from_server && in(c, {0x87, 0x89, 0x8B, 0x8D, 0x8E, 0x8F, 0x9A, 0x9B, 0x9C, 0x9D, 0x9E,
                                   0x9F, 0xA0, 0xA1, 0xA2});
    case packet_type::auth:
      return (c == 0x00 && from_server) || c == 0x18 || (c == 0x19 && !from_server);
    default: return false;
  }
}

error check_first_byte(std::uint8_t first, std::optional<protocol_version> v) noexcept {
  const unsigned type = first >> 4;
  const unsigned flags = first & 0x0F;
  if (type == 0 || (type == 15 && v && *v != protocol_version::v5)) {
    return error::packet_type_reserved;  // 2.1.2
  }
  switch (static_cast<packet_type>(type)) {
    case packet_type::publish: {
      const unsigned qos = (flags >> 1) & 3;
      if (qos == 3) return error::qos_invalid;                           // 3.3.1-4
      if (qos == 0 && (flags & 0x08) != 0) return error::dup_with_qos0;  // 3.3.1-2
      return {};
    }
    case packet_type::pubrel:
    case packet_type::subscribe:
    case packet_type::unsubscribe:
      return flags == 0x02 ? error{} : error::header_flags_invalid;  // 2.1.3
    default: return flags == 0 ? error{} : error::header_flags_invalid;
  }
}

bool decode_body(std::uint8_t first, bytes_view body, const body_context& ctx, packet_view& out,
                 body_error& err) noexcept {
  body_decoder d{body, ctx, err};
  switch (static_cast<packet_type>(first >> 4)) {
    case packet_type::connect: return d.connect(fresh<connect_view>(out));
    case packet_type::connack: return d.connack(fresh<connack_view>(out));
    case packet_type::publish: return d.publish(first, fresh<publish_view>(out));
    case packet_type::puback: return d.publish_response(fresh<puback_view>(out));
    case packet_type::pubrec: return d.publish_response(fresh<pubrec_view>(out));
    case packet_type::pubrel: return d.publish_response(fresh<pubrel_view>(out));
    case packet_type::pubcomp: return d.publish_response(fresh<pubcomp_view>(out));
    case packet_type::subscribe: return d.subscribe(fresh<subscribe_view>(out));
    case packet_type::suback: return d.suback(fresh<suback_view>(out));
    case packet_type::unsubscribe: return d.unsubscribe(fresh<unsubscribe_view>(out));
    case packet_type::unsuback: return d.unsuback(fresh<unsuback_view>(out));
    case packet_type::pingreq: fresh<pingreq_view>(out); return d.empty();
    case packet_type::pingresp: fresh<pingresp_view>(out); return d.empty();
    case packet_type::disconnect: return d.disconnect(fresh<disconnect_view>(out));
    case packet_type::auth: return d.auth(fresh<auth_view>(out));
  }
  err = {error::packet_type_reserved, 0, nullptr, std::nullopt};
  return false;
}

}  // namespace iotblocks::mqtt::detail
