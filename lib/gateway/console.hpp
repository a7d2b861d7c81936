// Private: the web console (issue 13). The files under web/ are embedded at build
// time (console_embed.cmake generates console_files.cpp) and served at /console/.
#pragma once

#include "gateway/gateway_impl.hpp"

#include <span>
#include <string_view>

namespace iotblocks::gateway {

/// One embedded file: its path under web/ ("/index.html"), bytes and quoted ETag.
struct console_file {
  std::string_view path;
  std::string_view data;
  std::string_view etag;
};

/// Every embedded file, sorted by path (generated).
std::span<const console_file> console_files() noexcept;

/// The MIME type served for `path`, from its extension (octet-stream when unknown).
std::string_view console_content_type(std::string_view path) noexcept;

/// Adds GET / (redirect), /console/... (the files, with ETag and Cache-Control) and
/// /console/config.json (listener ports, no secrets) to the gateway's HTTP server.
void add_console_routes(gateway::impl& g);

}  // namespace iotblocks::gateway
