// The library's version, for programs that want to print or check it.
#pragma once

#include <iotblocks/core/export.hpp>

#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks {

inline constexpr int version_major = 0;
inline constexpr int version_minor = 1;
inline constexpr int version_patch = 0;
inline constexpr std::string_view version_string = "0.1.0";

}  // namespace iotblocks

IOTBLOCKS_API_END
