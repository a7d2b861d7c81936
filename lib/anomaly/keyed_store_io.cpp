// keyed_store snapshots (bytes) and persistence (SQLite).
//
// Snapshot layout, little-endian:
//   "IOTBANOM" | u32 version (1) | u32 n, detector name | u32 n, parameters |
//   u32 encoded state size E | u64 series count |
//   per series: u32 key length, u32 field length, key, field, E bytes of state |
//   u32 CRC-32 of everything before it.
#include "anomaly/internal.hpp"
#include "anomaly/keyed_store_impl.hpp"
#include "core/sqlite.hpp"

#include <iotblocks/anomaly/error.hpp>
#include <iotblocks/anomaly/keyed_store.hpp>
#include <iotblocks/core/error.hpp>

#include <filesystem>
#include <random>
#include <string>

namespace iotblocks::anomaly {

using detail::store_core;

namespace {

constexpr std::string_view magic = "IOTBANOM";
constexpr std::uint32_t format_version = 1;

failure bad_snapshot(std::string message, std::size_t offset) {
  return failure{error::invalid_snapshot, std::move(message), at_offset(offset)};
}

mutable_bytes_view state_of(std::uint64_t* r, const detector& d) noexcept {
  return {reinterpret_cast<std::byte*>(r + 2), d.state_size()};
}
bytes_view state_of(const std::uint64_t* r, const detector& d) noexcept {
  return {reinterpret_cast<const std::byte*>(r + 2), d.state_size()};
}

// Adds a decoded series; the caller has checked the key.
std::error_code add_series(store_core& core, std::string_view key, std::string_view field,
                           bytes_view encoded) {
  if (auto ec = core.check_key(key, field)) return ec;
  const std::uint64_t h = core.hash(key, field);
  bool found = false;
  const std::size_t i = core.find_slot(h, key, field, found);
  if (found) return error::invalid_snapshot;  // duplicate
  if (core.live >= core.max_series) return error::too_many_series;
  std::uint64_t* r = core.insert(i, h, key, field);
  if (auto ec = core.model->decode(encoded, state_of(r, *core.model))) {
    core.model->init(state_of(r, *core.model));
    return ec;
  }
  r[1] &= ~store_core::dirty_flag;
  return {};
}

}  // namespace

byte_buffer keyed_store::snapshot() const {
  const detector& d = *impl_->model;
  byte_buffer out;
  detail::put_bytes(out, magic);
  detail::put_u32(out, format_version);
  const std::string name{d.name()}, params = d.parameters();
  detail::put_u32(out, static_cast<std::uint32_t>(name.size()));
  detail::put_bytes(out, name);
  detail::put_u32(out, static_cast<std::uint32_t>(params.size()));
  detail::put_bytes(out, params);
  detail::put_u32(out, static_cast<std::uint32_t>(d.encoded_size()));
  detail::put_u64(out, impl_->live);
  out.reserve(out.size() + impl_->live * (8 + d.encoded_size() + 32) + 4);
  impl_->for_each_record([&](const std::uint64_t* r) {
    const auto key = impl_->record_key(r), field = impl_->record_field(r);
    detail::put_u32(out, static_cast<std::uint32_t>(key.size()));
    detail::put_u32(out, static_cast<std::uint32_t>(field.size()));
    detail::put_bytes(out, key);
    detail::put_bytes(out, field);
    d.encode(state_of(r, d), out);
  });
  detail::put_u32(out, detail::crc32(out));
  return out;
}

result<keyed_store> keyed_store::restore(bytes_view in) {
  if (in.size() < magic.size() + 4 + 4 || as_string_view(in.first(magic.size())) != magic) {
    return bad_snapshot("not an anomaly snapshot (magic)", 0);
  }
  const bytes_view body = in.first(in.size() - 4);
  detail::reader tail{in.last(4)};
  if (detail::crc32(body) != tail.u32()) return bad_snapshot("checksum mismatch", body.size());
  detail::reader r{body.subspan(magic.size())};
  auto at = [&] { return magic.size() + r.offset(); };
  if (r.u32() != format_version) return bad_snapshot("unsupported format version", at() - 4);
  const std::string_view name = r.text(r.u32());
  const std::string_view params = r.text(r.u32());
  if (!r.ok()) return bad_snapshot("truncated header", at());
  auto model = make_detector(name, params);
  if (!model) {
    return bad_snapshot("snapshot detector '" + std::string(name) + "': " + model.describe(), 12);
  }
  const std::uint32_t encoded = r.u32();
  const std::uint64_t count = r.u64();
  if (!r.ok()) return bad_snapshot("truncated header", at());
  // Smaller: an older layout of the detector's state, which its decode() may accept.
  if (encoded == 0 || encoded > (*model)->encoded_size()) {
    return bad_snapshot("state size mismatch", at() - 12);
  }
  if (count > r.remaining() / (8 + std::uint64_t{encoded})) {
    return bad_snapshot("series count exceeds the data", at() - 8);
  }
  auto core = std::make_unique<impl>(std::move(*model));
  // count <= remaining(), checked above: it fits std::size_t.
  core->max_series = std::max(core->max_series, static_cast<std::size_t>(count));
  core->max_key_length = 0xFFFF;
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::size_t start = at();
    const std::uint32_t key_len = r.u32(), field_len = r.u32();
    const std::string_view key = r.text(key_len);
    const std::string_view field = r.text(field_len);
    const bytes_view state = r.bytes(encoded);
    if (!r.ok()) return bad_snapshot("truncated series", start);
    if (auto ec = add_series(*core, key, field, state)) {
      return bad_snapshot(ec == error::invalid_key        ? "invalid series key or field"
                          : ec == error::invalid_snapshot ? "duplicate or invalid series state"
                                                          : ec.message(),
                          start);
    }
  }
  if (r.remaining() != 0) return bad_snapshot("trailing bytes", at());
  core->max_series = 16'777'216;
  core->max_key_length = 256;
  return keyed_store{std::move(core)};
}

result<keyed_store> keyed_store::restore(bytes_view snapshot,
                                         const std::shared_ptr<const detector>& expected) {
  auto s = restore(snapshot);
  if (!s) return s;
  if (s->model().name() != expected->name() || s->model().parameters() != expected->parameters()) {
    return failure{
        error::detector_mismatch,
        "snapshot holds " + std::string(s->model().name()) + " (" + s->model().parameters() + ")",
        {}};
  }
  return s;
}

// ---- SQLite

namespace {

constexpr std::string_view schema =
    "CREATE TABLE IF NOT EXISTS anomaly_meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) "
    "WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS anomaly_series(series_key TEXT NOT NULL, field TEXT NOT NULL, "
    "state BLOB NOT NULL, PRIMARY KEY(series_key, field)) WITHOUT ROWID;";

result<std::string> meta(sqlite::database& db, std::string_view key) {
  auto q = db.prepare("SELECT value FROM anomaly_meta WHERE key = ?1");
  if (!q) return std::move(q).take_failure();
  q->bind(1, key);
  auto row = q->step();
  if (!row) return std::move(row).take_failure();
  if (!*row) return std::string{};
  return std::string(q->column_text(0));
}

std::uint64_t fresh_owner() {
  std::random_device rd;
  return (std::uint64_t{rd()} << 32 | rd()) | 1;
}

}  // namespace

result<std::size_t> keyed_store::save(const std::string& path) {
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  sqlite::transaction tx{*db};
  if (!tx.begun()) return tx.begun().fail();
  const detector& d = *impl_->model;
  auto owner = meta(*db, "owner");
  if (!owner) return std::move(owner).take_failure();
  const bool incremental =
      impl_->db_owner != 0 && impl_->db_path == path && *owner == std::to_string(impl_->db_owner);
  if (!incremental) {
    if (auto r = db->exec("DELETE FROM anomaly_series; DELETE FROM anomaly_meta;"); !r) {
      return std::move(r).take_failure();
    }
    const std::uint64_t id = impl_->db_owner != 0 ? impl_->db_owner : fresh_owner();
    auto put = db->prepare("INSERT INTO anomaly_meta(key, value) VALUES(?1, ?2)");
    if (!put) return std::move(put).take_failure();
    for (const auto& [k, v] :
         {std::pair<std::string, std::string>{"format", std::to_string(format_version)},
          {"detector", std::string(d.name())},
          {"parameters", d.parameters()},
          {"owner", std::to_string(id)}}) {
      put->bind(1, k).bind(2, v);
      if (auto r = put->run(); !r) return std::move(r).take_failure();
    }
    impl_->db_owner = id;
  } else {
    auto del = db->prepare("DELETE FROM anomaly_series WHERE series_key = ?1 AND field = ?2");
    if (!del) return std::move(del).take_failure();
    for (const auto& [k, f] : impl_->erased) {
      del->bind(1, k).bind(2, f);
      if (auto r = del->run(); !r) return std::move(r).take_failure();
    }
  }
  auto put = db->prepare(
      "INSERT OR REPLACE INTO anomaly_series(series_key, field, state) VALUES(?1, ?2, ?3)");
  if (!put) return std::move(put).take_failure();
  std::size_t written = 0;
  byte_buffer encoded;
  result<void> failed;
  impl_->for_each_record([&](const std::uint64_t* r) {
    if (!failed || (incremental && (r[1] & store_core::dirty_flag) == 0)) return;
    encoded.clear();
    d.encode(state_of(r, d), encoded);
    put->bind(1, impl_->record_key(r)).bind(2, impl_->record_field(r)).bind(3, bytes_view{encoded});
    failed = put->run();
    ++written;
  });
  if (!failed) return std::move(failed).take_failure();
  if (auto r = tx.commit(); !r) return std::move(r).take_failure();
  impl_->db_path = path;
  impl_->erased.clear();
  impl_->for_each_record_mut([](std::uint64_t* r) { r[1] &= ~store_core::dirty_flag; });
  return written;
}

result<keyed_store> keyed_store::load(const std::string& path) {
  std::error_code fs_ec;
  if (!std::filesystem::exists(path, fs_ec)) {
    return failure{core::error::not_found, "no such file '" + path + "'", {}};
  }
  auto db = sqlite::database::open(path);
  if (!db) return std::move(db).take_failure();
  if (auto r = db->exec(schema); !r) return std::move(r).take_failure();
  auto format = meta(*db, "format");
  auto name = meta(*db, "detector");
  auto params = meta(*db, "parameters");
  auto owner = meta(*db, "owner");
  if (!format || !name || !params || !owner) {
    return failure{error::invalid_snapshot, "unreadable anomaly_meta", {}};
  }
  if (*format != std::to_string(format_version)) {
    return failure{error::invalid_snapshot, "unsupported format '" + *format + "'", {}};
  }
  auto model = make_detector(*name, *params);
  if (!model) {
    return failure{error::invalid_snapshot, "stored detector: " + model.describe(), {}};
  }
  auto core = std::make_unique<impl>(std::move(*model));
  core->max_key_length = 0xFFFF;
  core->max_series = ~std::size_t{0};
  auto rows = db->prepare("SELECT series_key, field, state FROM anomaly_series");
  if (!rows) return std::move(rows).take_failure();
  while (true) {
    auto more = rows->step();
    if (!more) return std::move(more).take_failure();
    if (!*more) break;
    if (auto ec =
            add_series(*core, rows->column_text(0), rows->column_text(1), rows->column_blob(2))) {
      return failure{error::invalid_snapshot,
                     "series '" + std::string(rows->column_text(0)) + "' / '" +
                         std::string(rows->column_text(1)) + "': " + ec.message(),
                     {}};
    }
  }
  core->max_key_length = 256;
  core->max_series = std::max<std::size_t>(16'777'216, core->live);
  core->db_path = path;
  core->db_owner = owner->empty() ? 0 : std::strtoull(owner->c_str(), nullptr, 10);
  return keyed_store{std::move(core)};
}

}  // namespace iotblocks::anomaly
