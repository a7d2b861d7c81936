// sql::evaluator: runs WHERE, SELECT and templates through the interpreter, and
// validates payloads as JSON (simdjson, RapidJSON for numbers beyond 64 bits).
#include "sql/eval_state.hpp"
#include "sql/interpreter.hpp"
#include "sql/json_index.hpp"
#include "sql/json_out.hpp"
#include "sql/regex.hpp"

#include <iotblocks/core/error.hpp>
#include <iotblocks/sql/evaluator.hpp>

#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <algorithm>
#include <cstring>

namespace iotblocks::sql {
namespace detail {

/// Full validation of a payload with simdjson (strict RFC 8259, UTF-8, depth).
class validator {
 public:
  enum class verdict { json, not_json, too_deep };

  verdict check(std::string_view text, std::size_t max_depth) {
    if (!prepare(text, max_depth)) return verdict::not_json;
    return parse(text, max_depth);
  }

  /// check() that also reads the program's payload paths on the way (one pass).
  verdict check_and_index(std::string_view text, std::size_t max_depth, eval_state& st) {
    if (!prepare(text, max_depth)) return verdict::not_json;
    if (index_payload(on_demand_, buf_.data(), buf_.size(), text, max_depth, st))
      return verdict::json;
    return parse(text, max_depth);
  }

 private:
  bool prepare(std::string_view text, std::size_t max_depth) {
    if (depth_ != max_depth || capacity_ < text.size()) {
      capacity_ = std::max<std::size_t>(text.size(), 4096);
      depth_ = max_depth;
      if (parser_.allocate(capacity_, max_depth) != simdjson::SUCCESS ||
          on_demand_.allocate(capacity_, max_depth) != simdjson::SUCCESS) {
        capacity_ = 0;
        return false;
      }
    }
    if (buf_.size() < text.size() + simdjson::SIMDJSON_PADDING) {
      buf_.resize(text.size() + simdjson::SIMDJSON_PADDING);
    }
    std::memcpy(buf_.data(), text.data(), text.size());
    std::memset(buf_.data() + text.size(), 0, simdjson::SIMDJSON_PADDING);
    return true;
  }

  verdict parse(std::string_view text, std::size_t max_depth) {
    auto r = parser_.parse(buf_.data(), text.size(), false);
    if (r.error() == simdjson::SUCCESS) return verdict::json;
    if (r.error() == simdjson::DEPTH_ERROR) return verdict::too_deep;
    if (r.error() == simdjson::NUMBER_ERROR || r.error() == simdjson::NUMBER_OUT_OF_RANGE) {
      // simdjson stops at integers beyond 64 bits and numbers beyond a double; JSON
      // allows them (AWS keeps 34 digits), so such payloads are checked again by
      // RapidJSON's reader with numbers kept as text.
      return check_slow(text, max_depth);
    }
    return verdict::not_json;
  }

  struct depth_handler : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, depth_handler> {
    std::size_t depth = 0, max = 0;
    bool too_deep = false;
    bool Default() { return true; }
    bool enter() {
      if (++depth > max) return too_deep = true, false;
      return true;
    }
    bool StartObject() { return enter(); }
    bool EndObject(rapidjson::SizeType) { return --depth, true; }
    bool StartArray() { return enter(); }
    bool EndArray(rapidjson::SizeType) { return --depth, true; }
  };

  static verdict check_slow(std::string_view text, std::size_t max_depth) {
    depth_handler h;
    h.max = max_depth;
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(ms);
    rapidjson::Reader reader;
    constexpr unsigned flags = rapidjson::kParseValidateEncodingFlag |
                               rapidjson::kParseNumbersAsStringsFlag |
                               rapidjson::kParseIterativeFlag;
    if (reader.Parse<flags>(in, h)) return verdict::json;
    return h.too_deep ? verdict::too_deep : verdict::not_json;
  }

  simdjson::dom::parser parser_;
  simdjson::ondemand::parser on_demand_;
  std::vector<char> buf_;
  std::size_t capacity_ = 0;
  std::size_t depth_ = 0;
};

eval_state::eval_state(evaluator_options o)
    : opts(o),
      mem(o.max_memory()),
      json_validator(std::make_unique<validator>()),
      regexes(std::make_unique<regex_cache>()),
      rng(std::random_device{}()) {}

eval_state::~eval_state() = default;

std::int64_t eval_state::timestamp() {
  if (!now) now = msg && msg->timestamp_ms ? *msg->timestamp_ms : opts.clock().now_ms();
  return *now;
}

namespace {

// Makes sure the payload mode is final (JSON or binary). False on error.
bool validate(eval_state& st) {
  if (st.mode != payload_mode::lazy) return true;
  const auto text = as_string_view(st.msg->payload);
  const auto depth = st.opts.max_payload_depth();
  // Two or more paths still unread are read in the validating pass (one pass);
  // otherwise the DOM parser, faster by itself, validates and the lazy reader
  // reads the one path left, if any (sql_benchmark: Projection vs Case).
  const auto unread = std::count(st.path_done.begin(), st.path_done.end(), 0);
  const auto v = unread >= 2 ? st.json_validator->check_and_index(text, depth, st)
                             : st.json_validator->check(text, depth);
  if (v == validator::verdict::json) {
    st.mode = payload_mode::json;
    return true;
  }
  if (v == validator::verdict::too_deep) {
    st.fail(error::payload_too_deep, "payload nests deeper than max_payload_depth");
    return false;
  }
  switch_to_binary(st);
  return true;
}

enum class where_result { match, no_match, failed };

where_result run_where(eval_state& st, const program& p) {
  const auto w = p.selects[0].where;
  if (w < 0) return validate(st) ? where_result::match : where_result::failed;
  if (p.where_needs_validation && !validate(st)) return where_result::failed;
  bool t = is_true(eval(st, w));
  if (!t && !st.error) return where_result::no_match;  // same answer on a non-JSON payload
  if (st.mode == payload_mode::lazy) {
    std::optional<failure> saved = std::move(st.error);
    st.error.reset();
    if (!validate(st)) return where_result::failed;
    if (st.mode == payload_mode::binary) {
      t = is_true(eval(st, w));  // the answer on the payload as bytes
    } else {
      st.error = std::move(saved);
    }
  }
  if (st.error) return where_result::failed;
  return t ? where_result::match : where_result::no_match;
}

failure take_error(eval_state& st) {
  failure f = std::move(*st.error);
  st.error.reset();
  return f;
}

}  // namespace
}  // namespace detail

evaluator::evaluator(evaluator_options options)
    : s_(std::make_unique<detail::eval_state>(options)) {}
evaluator::~evaluator() = default;
evaluator::evaluator(evaluator&&) noexcept = default;
evaluator& evaluator::operator=(evaluator&&) noexcept = default;

const evaluator_options& evaluator::options() const noexcept { return s_->opts; }

result<bool> evaluator::matches(const rule& r, const message& m) {
  auto& st = *s_;
  const auto& p = r.program();
  detail::begin(st, p, m);
  const auto w = detail::run_where(st, p);
  if (w == detail::where_result::failed) return detail::take_error(st);
  return w == detail::where_result::match;
}

result<std::optional<std::string_view>> evaluator::evaluate(const rule& r, const message& m) {
  auto& st = *s_;
  const auto& p = r.program();
  detail::begin(st, p, m);
  const std::string_view payload = as_string_view(m.payload);
  if (p.star_only && p.selects[0].where < 0) return std::optional<std::string_view>{payload};
  const auto w = detail::run_where(st, p);
  if (w == detail::where_result::failed) return detail::take_error(st);
  if (w == detail::where_result::no_match) return std::optional<std::string_view>{};
  if (p.star_only) return std::optional<std::string_view>{payload};
  const auto& sel = p.selects[0];
  st.out.clear();
  bool ok = true;
  if (sel.value) {
    const detail::val v = detail::eval(st, sel.items[0].expr);
    if (v.k == detail::kind::binary) {
      st.out.assign(v.p, v.n);
    } else {
      ok = detail::write_json(st, st.out, v);
    }
  } else if (sel.flat) {
    ok = detail::write_flat(st, st.out, sel);
  } else {
    const auto root = detail::build_items(st, sel, st.root);
    if (!st.error) ok = detail::write_built(st, st.out, root);
  }
  if (!ok && !st.error) {
    st.fail(error::binary_payload, "a non-JSON payload cannot be part of a JSON output");
  }
  if (st.error) return detail::take_error(st);
  return std::optional<std::string_view>{std::string_view{st.out}};
}

result<std::optional<value>> evaluator::evaluate_value(const rule& r, const message& m) {
  auto out = evaluate(r, m);
  if (!out) return std::move(out).take_failure();
  if (!*out) return std::optional<value>{};
  const std::string_view text = **out;
  if (text.empty()) return std::optional<value>{value{}};
  auto v = value::from_json(text, static_cast<unsigned>(s_->opts.max_payload_depth() + 80));
  if (!v) return std::optional<value>{value{std::string(text)}};
  return std::optional<value>{std::move(*v)};
}

result<std::string> evaluator::render(const substitution_template& t, const message& m) {
  auto& st = *s_;
  const auto& p = t.program();
  detail::begin(st, p, m);
  std::string out;
  if (!p.parts.empty() && !detail::validate(st)) return detail::take_error(st);
  for (const auto& part : p.parts) {
    out += part.literal;
    if (part.expr < 0) continue;
    const detail::val v = detail::eval(st, part.expr);
    switch (v.k) {
      case detail::kind::undefined: break;
      case detail::kind::string:
      case detail::kind::binary: out.append(v.p, v.n); break;
      default: detail::write_json(st, out, v); break;
    }
    if (st.error) return detail::take_error(st);
  }
  return out;
}

}  // namespace iotblocks::sql

namespace iotblocks::sql::detail {

bool is_json_text(eval_state& st, std::string_view text) {
  return st.json_validator->check(text, st.opts.max_payload_depth()) == validator::verdict::json;
}

}  // namespace iotblocks::sql::detail
