#include "provisioning/evaluator.hpp"

#include "core/json.hpp"

#include <iotblocks/provisioning/error.hpp>

#include <charconv>
#include <utility>

namespace iotblocks::provisioning::detail {

failure template_failure(const std::string& path, std::string_view message) {
  std::string m = path;
  m += ": ";
  m += message;
  return failure{error::invalid_template, std::move(m), {}};
}

std::string child(const std::string& path, std::string_view key) {
  std::string p = path;
  if (!p.empty()) p += '.';
  p += key;
  return p;
}

std::string element(const std::string& path, std::size_t i) {
  return path + "[" + std::to_string(i) + "]";
}

namespace {

value string_value(std::string s) {
  value v;
  v.k = value::kind::string;
  v.text = std::move(s);
  return v;
}

value bool_value(bool b) {
  value v;
  v.k = value::kind::boolean;
  v.flag = b;
  return v;
}

// The one member of a single-member object whose name is a function, or "".
std::string_view function_name(const rapidjson::Value& v) noexcept {
  if (!v.IsObject() || v.MemberCount() != 1) return {};
  const std::string_view name = json::view(v.MemberBegin()->name);
  if (name == "Ref" || name == "Condition" || name.starts_with("Fn::")) return name;
  return {};
}

std::string quoted(std::string_view s) {
  std::string q = "'";
  q += s.substr(0, 64);
  if (s.size() > 64) q += "…";
  q += "'";
  return q;
}

}  // namespace

evaluator::evaluator(const rapidjson::Value& root,
                     const std::map<std::string, std::string>& parameters,
                     const std::set<std::string>& lists, const limits& l) noexcept
    : root_(root), parameters_(parameters), lists_(lists), limits_(l) {}

bool evaluator::spend(std::size_t n) noexcept {
  spent_ += n;
  return spent_ <= limits_.max_output();
}

failure evaluator::budget_failure(const std::string& path) const {
  return failure{
      error::limit_exceeded,
      path + ": evaluation produces more than " + std::to_string(limits_.max_output()) + " bytes",
      {}};
}

result<value> evaluator::eval(const rapidjson::Value& v, const std::string& path) {
  if (const auto fn = function_name(v); !fn.empty()) {
    return function(fn, v.MemberBegin()->value, path);
  }
  if (v.IsString()) {
    if (!spend(v.GetStringLength())) return budget_failure(path);
    return string_value(std::string(json::view(v)));
  }
  if (v.IsNull()) return value{};
  if (v.IsBool()) return string_value(v.GetBool() ? "true" : "false");
  if (v.IsNumber()) {
    std::string text = json::write(v);
    if (!spend(text.size())) return budget_failure(path);
    return string_value(std::move(text));
  }
  value out;
  if (v.IsArray()) {
    out.k = value::kind::list;
    std::size_t i = 0;
    for (const auto& item : v.GetArray()) {
      auto e = eval(item, element(path, i++));
      if (!e) return std::move(e).take_failure();
      if (e->k != value::kind::none) out.items.push_back(std::move(*e));
    }
    return out;
  }
  out.k = value::kind::object;
  for (const auto& m : v.GetObject()) {
    const std::string_view key = json::view(m.name);
    auto e = eval(m.value, child(path, key));
    if (!e) return std::move(e).take_failure();
    if (e->k == value::kind::none) continue;
    out.keys.emplace_back(key);
    out.items.push_back(std::move(*e));
  }
  return out;
}

result<value> evaluator::function(std::string_view fn, const rapidjson::Value& arg,
                                  const std::string& path) {
  if (fn == "Ref") return ref(arg, path);
  if (fn == "Fn::Join") return join(arg, path);
  if (fn == "Fn::Select") return select(arg, path);
  if (fn == "Fn::Split") return split(arg, path);
  if (fn == "Fn::FindInMap") return find_in_map(arg, path);
  if (fn == "Fn::Sub") return sub(arg, path);
  if (fn == "Fn::If") return if_(arg, path);
  if (fn == "Fn::Equals" || fn == "Fn::Not" || fn == "Fn::And" || fn == "Fn::Or" ||
      fn == "Condition") {
    return logic(fn, arg, path);
  }
  return template_failure(path, "unknown function " + quoted(fn));
}

result<value> evaluator::string_of(const rapidjson::Value& v, const std::string& path,
                                   const char* what) {
  auto e = eval(v, path);
  if (!e) return e;
  if (e->k != value::kind::string) {
    return template_failure(path, std::string(what) + " must be a string");
  }
  return e;
}

result<value> evaluator::ref(const rapidjson::Value& arg, const std::string& path) {
  if (!arg.IsString()) return template_failure(path, "Ref takes a parameter name (a string)");
  const std::string_view name = json::view(arg);
  if (name == "AWS::NoValue") return value{};
  const auto it = parameters_.find(std::string(name));
  if (it == parameters_.end()) {
    return template_failure(path, "Ref to unknown parameter " + quoted(name));
  }
  if (!spend(it->second.size())) return budget_failure(path);
  if (!lists_.contains(it->first)) return string_value(it->second);
  value out;
  out.k = value::kind::list;
  std::string_view rest = it->second;
  while (true) {
    const auto comma = rest.find(',');
    out.items.push_back(string_value(std::string(rest.substr(0, comma))));
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return out;
}

result<value> evaluator::join(const rapidjson::Value& arg, const std::string& path) {
  if (!arg.IsArray() || arg.Size() != 2 || !arg[0].IsString()) {
    return template_failure(path, "Fn::Join takes [delimiter, [values]]");
  }
  auto list = eval(arg[1], element(child(path, "Fn::Join"), 1));
  if (!list) return list;
  if (list->k != value::kind::list) return template_failure(path, "Fn::Join needs a list");
  const std::string_view delimiter = json::view(arg[0]);
  std::string out;
  for (std::size_t i = 0; i < list->items.size(); ++i) {
    const auto& item = list->items[i];
    if (item.k != value::kind::string) {
      return template_failure(element(element(child(path, "Fn::Join"), 1), i),
                              "Fn::Join joins strings only");
    }
    if (i) out += delimiter;
    out += item.text;
    if (!spend(item.text.size() + delimiter.size())) return budget_failure(path);
  }
  return string_value(std::move(out));
}

result<value> evaluator::select(const rapidjson::Value& arg, const std::string& path) {
  if (!arg.IsArray() || arg.Size() != 2) {
    return template_failure(path, "Fn::Select takes [index, [values]]");
  }
  std::size_t index = 0;
  if (arg[0].IsUint()) {
    index = arg[0].GetUint();
  } else {
    auto i = string_of(arg[0], element(child(path, "Fn::Select"), 0), "the index");
    if (!i) return i;
    const auto* end = i->text.data() + i->text.size();
    const auto [ptr, ec] = std::from_chars(i->text.data(), end, index);
    if (ec != std::errc{} || ptr != end || i->text.empty()) {
      return template_failure(element(child(path, "Fn::Select"), 0),
                              "index " + quoted(i->text) + " is not a number");
    }
  }
  auto list = eval(arg[1], element(child(path, "Fn::Select"), 1));
  if (!list) return list;
  if (list->k != value::kind::list) return template_failure(path, "Fn::Select needs a list");
  if (index >= list->items.size()) {
    return template_failure(path, "index " + std::to_string(index) + " out of range (" +
                                      std::to_string(list->items.size()) + " values)");
  }
  return std::move(list->items[index]);
}

result<value> evaluator::split(const rapidjson::Value& arg, const std::string& path) {
  if (!arg.IsArray() || arg.Size() != 2 || !arg[0].IsString() || arg[0].GetStringLength() == 0) {
    return template_failure(path, "Fn::Split takes [delimiter, string], a non-empty delimiter");
  }
  auto s = string_of(arg[1], element(child(path, "Fn::Split"), 1), "the source");
  if (!s) return s;
  const std::string_view delimiter = json::view(arg[0]);
  value out;
  out.k = value::kind::list;
  std::string_view rest = s->text;
  while (true) {
    const auto at = rest.find(delimiter);
    out.items.push_back(string_value(std::string(rest.substr(0, at))));
    if (!spend(1)) return budget_failure(path);  // each item costs, even when empty
    if (at == std::string_view::npos) break;
    rest.remove_prefix(at + delimiter.size());
  }
  return out;
}

result<value> evaluator::find_in_map(const rapidjson::Value& arg, const std::string& path) {
  if (!arg.IsArray() || arg.Size() != 3) {
    return template_failure(path, "Fn::FindInMap takes [map, top-level key, second-level key]");
  }
  const rapidjson::Value* at = json::find(root_, "Mappings");
  std::string where = "Mappings";
  for (rapidjson::SizeType i = 0; i < 3; ++i) {
    auto key = string_of(arg[i], element(child(path, "Fn::FindInMap"), i), "a Fn::FindInMap key");
    if (!key) return key;
    const rapidjson::Value* next = at ? json::find(*at, key->text) : nullptr;
    if (!next) {
      return template_failure(path, "no " + quoted(key->text) + " in " + where);
    }
    where = child(where, key->text);
    at = next;
  }
  return eval(*at, path);
}

result<value> evaluator::sub(const rapidjson::Value& arg, const std::string& path) {
  const rapidjson::Value* text = &arg;
  const rapidjson::Value* vars = nullptr;
  if (arg.IsArray()) {
    if (arg.Size() != 2 || !arg[1].IsObject()) {
      return template_failure(path, "Fn::Sub takes a string or [string, {variables}]");
    }
    text = &arg[0];
    vars = &arg[1];
  }
  if (!text->IsString()) return template_failure(path, "Fn::Sub takes a string");
  std::string_view rest = json::view(*text);
  std::string out;
  while (!rest.empty()) {
    const auto open = rest.find("${");
    out += rest.substr(0, open);
    if (open == std::string_view::npos) break;
    rest.remove_prefix(open + 2);
    const auto close = rest.find('}');
    if (close == std::string_view::npos) return template_failure(path, "unclosed ${ in Fn::Sub");
    const std::string_view name = rest.substr(0, close);
    rest.remove_prefix(close + 1);
    if (name.starts_with('!')) {  // ${!Literal} is the text ${Literal}
      out += "${";
      out += name.substr(1);
      out += '}';
      continue;
    }
    if (vars) {
      if (const auto* v = json::find(*vars, name)) {
        auto s =
            string_of(*v, child(element(child(path, "Fn::Sub"), 1), name), "a Fn::Sub variable");
        if (!s) return s;
        out += s->text;
        continue;
      }
    }
    const auto it = parameters_.find(std::string(name));
    if (it == parameters_.end()) {
      return template_failure(
          path, "${" + std::string(name.substr(0, 64)) + "} names no parameter or variable");
    }
    out += it->second;
    if (!spend(it->second.size())) return budget_failure(path);
  }
  if (!spend(out.size())) return budget_failure(path);
  return string_value(std::move(out));
}

result<value> evaluator::if_(const rapidjson::Value& arg, const std::string& path) {
  if (!arg.IsArray() || arg.Size() != 3 || !arg[0].IsString()) {
    return template_failure(path, "Fn::If takes [condition name, value if true, value if false]");
  }
  auto c = condition(json::view(arg[0]), element(child(path, "Fn::If"), 0));
  if (!c) return std::move(c).take_failure();
  const rapidjson::SizeType pick = *c ? 1 : 2;
  return eval(arg[pick], element(child(path, "Fn::If"), pick));
}

result<bool> evaluator::boolean_of(const rapidjson::Value& v, const std::string& path) {
  auto e = eval(v, path);
  if (!e) return std::move(e).take_failure();
  if (e->k != value::kind::boolean) {
    return template_failure(path,
                            "a condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or "
                            "or {\"Condition\": name}");
  }
  return e->flag;
}

result<value> evaluator::logic(std::string_view fn, const rapidjson::Value& arg,
                               const std::string& path) {
  if (fn == "Condition") {
    if (!arg.IsString()) return template_failure(path, "Condition takes a condition name");
    auto c = condition(json::view(arg), path);
    if (!c) return std::move(c).take_failure();
    return bool_value(*c);
  }
  if (fn == "Fn::Equals") {
    if (!arg.IsArray() || arg.Size() != 2) return template_failure(path, "Fn::Equals takes [a, b]");
    auto a = eval(arg[0], element(child(path, fn), 0));
    if (!a) return a;
    auto b = eval(arg[1], element(child(path, fn), 1));
    if (!b) return b;
    if (a->k != value::kind::string || b->k != value::kind::string) {
      return template_failure(path, "Fn::Equals compares strings");
    }
    return bool_value(a->text == b->text);
  }
  if (fn == "Fn::Not") {
    if (!arg.IsArray() || arg.Size() != 1) {
      return template_failure(path, "Fn::Not takes [condition]");
    }
    auto c = boolean_of(arg[0], element(child(path, fn), 0));
    if (!c) return std::move(c).take_failure();
    return bool_value(!*c);
  }
  // Fn::And, Fn::Or: 2 to 10 conditions, as CloudFormation.
  if (!arg.IsArray() || arg.Size() < 2 || arg.Size() > 10) {
    return template_failure(path, std::string(fn) + " takes 2 to 10 conditions");
  }
  const bool is_and = fn == "Fn::And";
  bool out = is_and;
  for (rapidjson::SizeType i = 0; i < arg.Size(); ++i) {
    auto c = boolean_of(arg[i], element(child(path, fn), i));
    if (!c) return std::move(c).take_failure();
    out = is_and ? (out && *c) : (out || *c);
  }
  return bool_value(out);
}

result<bool> evaluator::condition(std::string_view name, const std::string& path) {
  if (const auto it = conditions_.find(name); it != conditions_.end()) return it->second;
  const rapidjson::Value* all = json::find(root_, "Conditions");
  const rapidjson::Value* def = all ? json::find(*all, name) : nullptr;
  if (!def) return template_failure(path, "unknown condition " + quoted(name));
  const std::string where = child("Conditions", name);
  if (visiting_.contains(name)) return template_failure(where, "circular condition reference");
  if (depth_ >= limits_.max_depth()) {
    return failure{error::limit_exceeded, where + ": conditions nested too deep", {}};
  }
  ++depth_;
  visiting_.emplace(name);
  auto b = boolean_of(*def, where);
  visiting_.erase(visiting_.find(name));
  --depth_;
  if (!b) return b;
  conditions_.emplace(std::string(name), *b);
  return b;
}

}  // namespace iotblocks::provisioning::detail
