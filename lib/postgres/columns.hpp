// Private: column values as the PostgreSQL stores write and read them in text form.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::postgres::detail {

/// A bigint column; nullopt when `s` is not one.
std::optional<std::int64_t> to_int64(std::string_view s);

/// String attributes as one JSON object.
std::string attributes_json(const std::map<std::string, std::string>& attributes);
/// nullopt when `text` is not a JSON object of strings.
std::optional<std::map<std::string, std::string>> parse_attributes(std::string_view text);

/// A PostgreSQL array literal, e.g. {"a","b\\"c",NULL}, for one parameter that carries a
/// column of many rows (unnest($1::text[]) in a statement). Distinct objects: safe.
class text_array {
 public:
  void add(std::string_view v);
  void add(std::int64_t v);
  void add_null();
  std::string take();

 private:
  std::string out_;
};

}  // namespace iotblocks::postgres::detail
