// The one-pass reader (json_index.cpp) against the two readers it replaces: when
// it calls a payload JSON, simdjson's DOM parser must too, and every path value
// it records must equal what the lazy reader finds (first occurrence, nested).
#include "sql/convert.hpp"
#include "sql/eval_state.hpp"
#include "sql/interpreter.hpp"
#include "sql/json_index.hpp"
#include "sql/json_scan.hpp"

#include <iotblocks/core/bytes.hpp>
#include <iotblocks/sql.hpp>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

using namespace iotblocks::sql;
using namespace iotblocks::sql::detail;

bool same(const val& a, const val& b) {
  if (a.k != b.k || a.raw != b.raw) return false;
  switch (a.k) {
    case kind::boolean: return a.u.b == b.u.b;
    case kind::integer: return a.u.i == b.u.i;
    case kind::decimal: return a.u.d == b.u.d && a.text() == b.text();
    case kind::string:
    case kind::array:
    case kind::object: return a.text() == b.text();
    default: return true;
  }
}

// The lazy reader's value of path `id`: the first member of that name, level by level.
val lazy(eval_state& st, const program& p, std::size_t id) {
  const path_node& n = p.paths[id];
  const val parent = n.parent < 0 ? st.root : lazy(st, p, static_cast<std::size_t>(n.parent));
  return get_member(st, parent, n.key);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const rule r =
      compile("SELECT a, a.b, a.b.c, d, e.f, e.g, h FROM 't' WHERE a.b.c.d = 1").value();
  static simdjson::ondemand::parser on_demand;
  static simdjson::dom::parser dom;
  constexpr std::size_t max_depth = 64;
  static const bool allocated = on_demand.allocate(1 << 16, max_depth) == simdjson::SUCCESS &&
                                dom.allocate(1 << 16, max_depth) == simdjson::SUCCESS;
  if (!allocated || size > (1 << 16)) return 0;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  std::vector<char> padded(size + simdjson::SIMDJSON_PADDING, '\0');
  std::memcpy(padded.data(), data, size);

  const program& p = r.program();
  message m;
  m.topic = "t";
  m.payload = iotblocks::as_bytes(payload);
  eval_state st{evaluator_options{}};
  begin(st, p, m);
  if (!index_payload(on_demand, padded.data(), padded.size(), payload, max_depth, st)) return 0;
  if (dom.parse(padded.data(), size, false).error() != simdjson::SUCCESS) std::abort();
  for (std::size_t id = 0; id < p.paths.size(); ++id) {
    if (st.path_done[id] && !same(st.path_vals[id], lazy(st, p, id))) std::abort();
  }
  return 0;
}
