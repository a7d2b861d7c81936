// The workers' --store URL: sqlite:PATH (a file) or postgresql://… (also postgres://…).
#pragma once

#include "command.hpp"

#include <cstddef>
#include <string>
#include <type_traits>
#include <utility>

namespace iotblocks::cli {

inline bool is_postgres_url(const std::string& url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

/// The store `url` names, as a `Store`: `sqlite(path)` opens sqlite:PATH, `postgres(url)`
/// a PostgreSQL URL (nullptr: this build has no postgres component); each returns a
/// result whose value converts to `Store`. A bad URL or a failed open throws cli::error.
template <class Store, class Sqlite, class Postgres>
Store open_store_url(const std::string& url, Sqlite&& sqlite, Postgres&& postgres) {
  if (url.starts_with("sqlite:")) {
    if (url.size() == 7) throw error(usage, "--store: sqlite:PATH needs a path");
    auto s = sqlite(url.substr(7));
    if (!s) throw error(bad_input, url + ": " + s.describe());
    return std::move(*s);
  }
  if (is_postgres_url(url)) {
    if constexpr (std::is_null_pointer_v<std::remove_cvref_t<Postgres>>) {
      throw error(usage, "--store: this build has no postgres component (libpq-dev)");
    } else {
      auto s = postgres(url);
      if (!s) throw error(bad_input, "--store: " + s.describe());
      return std::move(*s);
    }
  }
  throw error(usage, "--store: expected sqlite:PATH or postgresql://…");
}

}  // namespace iotblocks::cli
