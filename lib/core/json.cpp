#include "core/json.hpp"

#include <iotblocks/core/error.hpp>
#include <iotblocks/core/utf8.hpp>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string>

#include <rapidjson/error/en.h>
#include <rapidjson/prettywriter.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace iotblocks::json {
namespace {

// Forwards SAX events to the document, fails once nesting passes the limit, and
// converts numbers itself (RapidJSON hands them over as text): std::from_chars
// rounds correctly and avoids RapidJSON 1.1's faulty paths for inputs like 0e40.
class depth_limited_handler {
 public:
  depth_limited_handler(rapidjson::Document& doc, unsigned max_depth) noexcept
      : doc_(doc), max_depth_(max_depth) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned i) { return doc_.Uint(i); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t i) { return doc_.Uint64(i); }
  bool Double(double d) { return doc_.Double(d); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool /*copy*/) { return number({s, n}); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) {
    return valid({s, n}) && doc_.String(s, n, copy);
  }
  bool StartObject() { return enter() && doc_.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) {
    return valid({s, n}) && doc_.Key(s, n, copy);
  }
  bool EndObject(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndObject(n);
  }
  bool StartArray() { return enter() && doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) {
    --depth_;
    return doc_.EndArray(n);
  }

  bool too_deep() const noexcept { return too_deep_; }
  bool number_out_of_range() const noexcept { return out_of_range_; }
  bool bad_surrogate() const noexcept { return bad_surrogate_; }

 private:
  // RapidJSON 1.1 lets a lone low surrogate escape (\udc00) through as CESU-8.
  bool valid(std::string_view s) noexcept {
    if (is_valid_utf8(s)) return true;
    bad_surrogate_ = true;
    return false;
  }
  bool number(std::string_view text) {
    const char* first = text.data();
    const char* last = first + text.size();
    if (text.find_first_of(".eE") == std::string_view::npos) {
      if (text.front() == '-') {
        std::int64_t i = 0;
        if (auto [p, ec] = std::from_chars(first, last, i); ec == std::errc{}) return doc_.Int64(i);
      } else {
        std::uint64_t u = 0;
        if (auto [p, ec] = std::from_chars(first, last, u); ec == std::errc{})
          return doc_.Uint64(u);
      }
    }
    double d = 0;
    if (auto [p, ec] = std::from_chars(first, last, d); ec == std::errc{}) return doc_.Double(d);
    // Out of range: overflow is an error, underflow becomes (signed) zero.
    d = std::strtod(std::string(text).c_str(), nullptr);
    if (std::isinf(d)) {
      out_of_range_ = true;
      return false;
    }
    return doc_.Double(d);
  }
  bool enter() noexcept {
    if (++depth_ > max_depth_) too_deep_ = true;
    return !too_deep_;
  }
  rapidjson::Document& doc_;
  unsigned max_depth_;
  unsigned depth_ = 0;
  bool too_deep_ = false;
  bool out_of_range_ = false;
  bool bad_surrogate_ = false;
};

constexpr unsigned base_flags =
    rapidjson::kParseIterativeFlag | rapidjson::kParseNumbersAsStringsFlag;

}  // namespace

result<rapidjson::Document> parse(std::string_view text, const parse_options& options) {
  rapidjson::Document doc;
  rapidjson::MemoryStream ms(text.data(), text.size());
  rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
  rapidjson::ParseResult parsed;
  bool too_deep = false;
  bool out_of_range = false;
  bool bad_surrogate = false;
  auto generate = [&](rapidjson::Document& handler) {
    depth_limited_handler limited(handler, options.max_depth);
    rapidjson::Reader reader;
    parsed = options.validate_utf8
                 ? reader.Parse<base_flags | rapidjson::kParseValidateEncodingFlag>(in, limited)
                 : reader.Parse<base_flags>(in, limited);
    too_deep = limited.too_deep();
    out_of_range = limited.number_out_of_range();
    bad_surrogate = limited.bad_surrogate();
    return !parsed.IsError();
  };
  doc.Populate(generate);
  if (too_deep) {
    return {core::error::json_too_deep,
            failure_message::cat("JSON nesting deeper than ", options.max_depth, " levels"),
            position_in(text, parsed.Offset())};
  }
  if (bad_surrogate) {
    return {core::error::invalid_json, "invalid JSON: string escape is not valid UTF-16",
            position_in(text, parsed.Offset())};
  }
  if (out_of_range) {
    return {core::error::invalid_json, "invalid JSON: number too big to be stored in double",
            position_in(text, parsed.Offset())};
  }
  if (parsed.IsError()) {
    return {core::error::invalid_json,
            failure_message::cat("invalid JSON: ", rapidjson::GetParseError_En(parsed.Code())),
            position_in(text, parsed.Offset())};
  }
  return doc;
}

std::string write(const rapidjson::Value& v, bool pretty) {
  rapidjson::StringBuffer buffer;
  if (pretty) {
    rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
    writer.SetIndent(' ', 2);
    v.Accept(writer);
  } else {
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
  }
  return {buffer.GetString(), buffer.GetSize()};
}

const rapidjson::Value* find(const rapidjson::Value& v, std::string_view key) noexcept {
  if (!v.IsObject()) return nullptr;
  const rapidjson::Value name(
      rapidjson::StringRef(key.data(), static_cast<rapidjson::SizeType>(key.size())));
  auto it = v.FindMember(name);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

std::optional<std::string_view> get_string(const rapidjson::Value& obj,
                                           std::string_view key) noexcept {
  const auto* m = find(obj, key);
  if (m == nullptr || !m->IsString()) return std::nullopt;
  return view(*m);
}

std::optional<std::int64_t> get_int64(const rapidjson::Value& obj, std::string_view key) noexcept {
  const auto* m = find(obj, key);
  if (m == nullptr || !m->IsInt64()) return std::nullopt;
  return m->GetInt64();
}

std::optional<double> get_double(const rapidjson::Value& obj, std::string_view key) noexcept {
  const auto* m = find(obj, key);
  if (m == nullptr || !m->IsNumber()) return std::nullopt;
  return m->GetDouble();
}

std::optional<bool> get_bool(const rapidjson::Value& obj, std::string_view key) noexcept {
  const auto* m = find(obj, key);
  if (m == nullptr || !m->IsBool()) return std::nullopt;
  return m->GetBool();
}

}  // namespace iotblocks::json
