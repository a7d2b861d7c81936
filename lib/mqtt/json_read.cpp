// JSON -> packets (the CLI's format): walks a parsed document and rejects unknown
// keys. Built with exceptions only (the reader reports faults by throwing).
#include <iotblocks/core/error.hpp>
#include <iotblocks/core/utf8.hpp>
#include <iotblocks/mqtt/json.hpp>

#include "core/json.hpp"

#include <initializer_list>
#include <stdexcept>

namespace iotblocks::mqtt {
namespace {

void append(std::string& s, std::string_view v) { s += v; }
void append(std::string& s, std::uint64_t v) { s += std::to_string(v); }

/// The arguments (text and integers) one after the other.
template <class... Args>
std::string cat(const Args&... args) {
  std::string s;
  (append(s, args), ...);
  return s;
}

class bad_json : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using value = rapidjson::Value;

// An object whose keys must all be read: unknown keys are errors.
class object {
 public:
  object(const value& v, std::string_view what) : v_(v), what_(what) {
    if (!v.IsObject()) throw bad_json(cat(what, " must be an object"));
  }

  const value* get(std::string_view k) {
    used_.emplace_back(k);
    return json::find(v_, k);
  }
  void done() const {
    for (auto it = v_.MemberBegin(); it != v_.MemberEnd(); ++it) {
      const std::string_view k = json::view(it->name);
      bool known = false;
      for (const std::string& u : used_) known = known || u == k;
      if (!known) throw bad_json(cat("unknown key \"", k, "\" in ", what_));
    }
  }

  std::uint64_t number(std::string_view k, std::uint64_t max, std::uint64_t fallback = 0) {
    const value* x = get(k);
    if (x == nullptr) return fallback;
    if (!x->IsUint64() || x->GetUint64() > max) {
      throw bad_json(cat("\"", k, "\" must be an integer from 0 to ", max));
    }
    return x->GetUint64();
  }
  bool flag(std::string_view k, bool fallback = false) {
    const value* x = get(k);
    if (x == nullptr) return fallback;
    if (!x->IsBool()) throw bad_json(cat("\"", k, "\" must be true or false"));
    return x->GetBool();
  }
  std::optional<std::string> text(std::string_view k) {
    const value* x = get(k);
    if (x == nullptr) return std::nullopt;
    if (!x->IsString()) throw bad_json(cat("\"", k, "\" must be a string"));
    return std::string{json::view(*x)};
  }
  /// "<k>" as text or "<k>_base64".
  std::optional<byte_buffer> binary(std::string_view k) {
    auto t = text(k);
    auto b = text(std::string{k} + "_base64");
    if (t && b) throw bad_json(cat("both \"", k, "\" and \"", k, "_base64\""));
    if (t) return to_buffer(*t);
    if (!b) return std::nullopt;
    auto decoded = from_base64(*b);
    if (!decoded) throw bad_json(cat("\"", k, "_base64\" is not base64"));
    return std::move(decoded).value();
  }
  const value* array(std::string_view k) {
    const value* x = get(k);
    if (x != nullptr && !x->IsArray()) throw bad_json(cat("\"", k, "\" must be an array"));
    return x;
  }

 private:
  const value& v_;
  std::string_view what_;
  std::vector<std::string> used_;
};

properties read_props(object& o) {
  properties p;
  const value* list = o.array("properties");
  if (list == nullptr) return p;
  for (const value& item : list->GetArray()) {
    if (!item.IsObject() || item.MemberCount() != 1) {
      throw bad_json("each property must be an object with one key");
    }
    std::string_view k = json::view(item.MemberBegin()->name);
    const value& x = item.MemberBegin()->value;
    const bool base64 = k.ends_with("_base64");
    if (base64) k.remove_suffix(7);
    const auto id = property_from_name(k);
    if (!id) throw bad_json(cat("unknown property \"", k, "\""));
    property prop;
    prop.id = *id;
    const property_type type = type_of(*id);
    byte_buffer decoded;
    if (base64 != (type == property_type::binary_data && base64)) {
      throw bad_json(cat("property \"", k, "\" has no base64 form"));
    }
    switch (type) {
      case property_type::utf8_string:
        if (!x.IsString()) throw bad_json(cat("property \"", k, "\" must be a string"));
        prop.text = json::view(x);
        break;
      case property_type::binary_data:
        if (!x.IsString()) throw bad_json(cat("property \"", k, "\" must be a string"));
        if (base64) {
          auto d = from_base64(json::view(x));
          if (!d) throw bad_json(cat("property \"", k, "_base64\" is not base64"));
          decoded = std::move(d).value();
          prop.data = decoded;
        } else {
          prop.data = as_bytes(json::view(x));
        }
        break;
      case property_type::utf8_string_pair:
        if (!x.IsArray() || x.Size() != 2 || !x[0].IsString() || !x[1].IsString()) {
          throw bad_json("user_property must be [name, value]");
        }
        prop.name = json::view(x[0]);
        prop.value = json::view(x[1]);
        break;
      default: {
        const std::uint64_t max = type == property_type::byte                ? 0xFF
                                  : type == property_type::two_byte_integer  ? 0xFFFF
                                  : type == property_type::four_byte_integer ? 0xFFFFFFFF
                                                                             : 268'435'455;
        if (!x.IsUint64() || x.GetUint64() > max) {
          throw bad_json(cat("property \"", k, "\" must be an integer from 0 to ", max));
        }
        prop.number = static_cast<std::uint32_t>(x.GetUint64());
      }
    }
    p.add(prop);
  }
  return p;
}

response_form read_form(object& o) {
  const auto f = o.text("form");
  if (!f || *f == "shortest") return response_form::shortest;
  if (*f == "reason_code") return response_form::reason_code;
  if (*f == "properties") return response_form::properties;
  throw bad_json("\"form\" must be \"shortest\", \"reason_code\" or \"properties\"");
}

reason_code read_reason(object& o) {
  return static_cast<reason_code>(o.number("reason_code", 0xFF));
}

std::vector<reason_code> read_reasons(object& o) {
  std::vector<reason_code> out;
  const value* list = o.array("reason_codes");
  if (list == nullptr) return out;
  for (const value& x : list->GetArray()) {
    if (!x.IsUint() || x.GetUint() > 0xFF) throw bad_json("reason codes must be 0..255");
    out.push_back(static_cast<reason_code>(x.GetUint()));
  }
  return out;
}

std::uint16_t id16(object& o, std::string_view k) {
  return static_cast<std::uint16_t>(o.number(k, 0xFFFF));
}

packet read_packet(const value& v) {
  object o{v, "packet"};
  const auto type_name = o.text("type");
  if (!type_name) throw bad_json("missing \"type\"");
  const auto type = packet_type_from_name(*type_name);
  if (!type) throw bad_json(cat("unknown packet type \"", *type_name, "\""));
  packet result;
  switch (*type) {
    case packet_type::connect: {
      connect p;
      const auto proto = o.text("protocol").value_or("5");
      if (proto == "3.1")
        p.version = protocol_version::v3_1;
      else if (proto == "3.1.1")
        p.version = protocol_version::v3_1_1;
      else if (proto == "5")
        p.version = protocol_version::v5;
      else
        throw bad_json("\"protocol\" must be \"3.1\", \"3.1.1\" or \"5\"");
      p.clean_start = o.flag("clean_start", true);
      p.keep_alive = id16(o, "keep_alive");
      p.client_id = o.text("client_id").value_or("");
      p.properties = read_props(o);
      if (const value* w = o.get("will")) {
        object wo{*w, "will"};
        will& x = p.will.emplace();
        x.topic = wo.text("topic").value_or("");
        x.qos = static_cast<std::uint8_t>(wo.number("qos", 2));
        x.retain = wo.flag("retain");
        x.properties = read_props(wo);
        x.payload = wo.binary("payload").value_or(byte_buffer{});
        wo.done();
      }
      p.username = o.text("username");
      p.password = o.binary("password");
      result = std::move(p);
      break;
    }
    case packet_type::connack:
      result = connack{o.flag("session_present"), read_reason(o), read_props(o)};
      break;
    case packet_type::publish: {
      publish p;
      p.topic = o.text("topic").value_or("");
      p.qos = static_cast<std::uint8_t>(o.number("qos", 2));
      p.retain = o.flag("retain");
      p.dup = o.flag("dup");
      p.packet_id = id16(o, "packet_id");
      p.properties = read_props(o);
      p.payload = o.binary("payload").value_or(byte_buffer{});
      result = std::move(p);
      break;
    }
    case packet_type::puback:
      result = puback{id16(o, "packet_id"), read_reason(o), read_props(o), read_form(o)};
      break;
    case packet_type::pubrec:
      result = pubrec{id16(o, "packet_id"), read_reason(o), read_props(o), read_form(o)};
      break;
    case packet_type::pubrel:
      result = pubrel{id16(o, "packet_id"), read_reason(o), read_props(o), read_form(o)};
      break;
    case packet_type::pubcomp:
      result = pubcomp{id16(o, "packet_id"), read_reason(o), read_props(o), read_form(o)};
      break;
    case packet_type::subscribe: {
      subscribe p{id16(o, "packet_id"), read_props(o), {}};
      if (const value* list = o.array("subscriptions")) {
        for (const value& s : list->GetArray()) {
          object so{s, "subscription"};
          subscription x;
          x.filter = so.text("filter").value_or("");
          x.options.qos = static_cast<std::uint8_t>(so.number("qos", 3));
          x.options.no_local = so.flag("no_local");
          x.options.retain_as_published = so.flag("retain_as_published");
          x.options.retain_handling = static_cast<std::uint8_t>(so.number("retain_handling", 3));
          so.done();
          p.subscriptions.push_back(std::move(x));
        }
      }
      result = std::move(p);
      break;
    }
    case packet_type::suback:
      result = suback{id16(o, "packet_id"), read_props(o), read_reasons(o)};
      break;
    case packet_type::unsubscribe: {
      unsubscribe p{id16(o, "packet_id"), read_props(o), {}};
      if (const value* list = o.array("filters")) {
        for (const value& f : list->GetArray()) {
          if (!f.IsString()) throw bad_json("filters must be strings");
          p.filters.emplace_back(json::view(f));
        }
      }
      result = std::move(p);
      break;
    }
    case packet_type::unsuback:
      result = unsuback{id16(o, "packet_id"), read_props(o), read_reasons(o)};
      break;
    case packet_type::pingreq: result = pingreq{}; break;
    case packet_type::pingresp: result = pingresp{}; break;
    case packet_type::disconnect:
      result = disconnect{read_reason(o), read_props(o), read_form(o)};
      break;
    case packet_type::auth: result = auth{read_reason(o), read_props(o), read_form(o)}; break;
  }
  o.done();
  return result;
}

}  // namespace

result<packet> packet_from_json(std::string_view text) {
  auto doc = json::parse(text, {.max_depth = 16});
  if (!doc) return std::move(doc).take_failure();
  try {
    return read_packet(*doc);
  } catch (const bad_json& e) {
    return {core::error::invalid_argument, e.what()};
  } catch (const std::system_error& e) {
    return {e.code(), e.what()};
  }
}

}  // namespace iotblocks::mqtt
