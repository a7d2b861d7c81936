// Private: finds where a value sits in JSON text that already parsed, so that
// errors found while walking the DOM can name a line and column.
#pragma once

#include <iotblocks/core/result.hpp>

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <variant>

namespace iotblocks::rules::detail {

/// A member name or an array index.
using path_step = std::variant<std::string_view, std::size_t>;

/// The offset of the value at `path` in `text` (well-formed JSON), or the
/// offset of the deepest value found on the way.
std::size_t locate(std::string_view text, std::initializer_list<path_step> path);

inline position locate_position(std::string_view text, std::initializer_list<path_step> path) {
  return position_in(text, locate(text, path));
}

}  // namespace iotblocks::rules::detail
