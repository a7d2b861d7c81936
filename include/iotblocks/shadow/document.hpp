// A device shadow and the three operations on it (update, get, delete) with the AWS IoT
// Device Shadow semantics, as pure functions: they take a request payload and the time,
// change the document, and return the payloads to publish. No I/O, no clock.
//
//   iotblocks::shadow::document doc;                       // no shadow yet
//   auto out = doc.update(R"({"state":{"desired":{"color":"red"}}})", 1700000000);
//   out.status;      // 200
//   out.body;        // the update/accepted document (only the request's fields)
//   out.delta;       // {"version":1,"timestamp":1700000000,"state":{"color":"red"},...}
//   doc.get("", 1700000001, "lamp").body;   // the full document with state.delta
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/core/result.hpp>
#include <iotblocks/shadow/error.hpp>
#include <iotblocks/shadow/limits.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>

IOTBLOCKS_API_BEGIN

namespace iotblocks::shadow {

namespace detail {
struct shadow_state;
}

/// Names one shadow: a thing and, for a named shadow, its name.
struct shadow_key {
  std::string thing;
  std::string name;  ///< empty: the classic (unnamed) shadow

  /// How 404 messages name the shadow: "thing" or "thing~name".
  std::string label() const { return name.empty() ? thing : thing + "~" + name; }
  friend bool operator==(const shadow_key&, const shadow_key&) = default;
};

/// Which payloads an operation builds; skip those nobody subscribes to.
struct outputs {
  bool response = true;   ///< the accepted document (errors are always built)
  bool delta = true;      ///< update/delta
  bool documents = true;  ///< update/documents
};

/// What one request produced.
struct outcome {
  std::error_code error;     ///< empty when the request was accepted
  int status = 200;          ///< HTTP status: 200, or http_status(error)
  std::string body;          ///< the accepted document, or {code, message, timestamp, clientToken}
  std::string delta;         ///< update/delta payload; empty if there is no delta
  std::string documents;     ///< update/documents payload; empty unless an update was accepted
  std::string client_token;  ///< the request's valid clientToken, if any

  bool accepted() const noexcept { return !error; }
};

/// One shadow document: desired and reported state, a metadata timestamp per leaf, the
/// version, and (once deleted) when it was deleted, so a re-created shadow continues
/// the version. A default-constructed document is a shadow that never existed.
/// Distinct objects: safe. Shared objects: unsafe.
class document {
 public:
  document();
  ~document();
  document(const document& other);
  document& operator=(const document& other);
  document(document&&) noexcept;
  document& operator=(document&&) noexcept;

  /// Reads a document in the form get() returns or to_storage() writes:
  /// {"state":{"desired":…,"reported":…},"metadata":{…},"version":N,"timestamp":T}
  /// (state.delta is ignored; leaves without metadata take "timestamp"), a tombstone
  /// {"version":N,"deletedAt":T}, or null for a shadow that never existed.
  static result<document> parse(std::string_view json, const limits& l = {});

  /// The form parse() reads back: state, metadata and version (or the tombstone, or null).
  std::string to_storage() const;

  bool exists() const noexcept;
  std::int64_t version() const noexcept;
  /// When the shadow was deleted (seconds); 0 unless it is a tombstone.
  std::int64_t deleted_at() const noexcept;

  /// Applies an update request (the /update payload). Accepted: the state merges in,
  /// the version goes up by one, and `body`, `delta`, `documents` hold the update/accepted,
  /// update/delta and update/documents payloads. Rejected: the document is unchanged and
  /// `body` is the error document.
  outcome update(std::string_view request, std::int64_t now, const limits& l = {},
                 const outputs& what = {});

  /// The get/accepted document (state with delta, metadata, version), or 404.
  /// `request` may be empty or {"clientToken": "…"}; `label` names the shadow in a 404.
  outcome get(std::string_view request, std::int64_t now, std::string_view label,
              const limits& l = {}, const outputs& what = {}) const;

  /// Deletes the shadow, keeping its version; `body` is {"version","timestamp"}, or 404.
  outcome remove(std::string_view request, std::int64_t now, std::string_view label,
                 const limits& l = {}, const outputs& what = {});

 private:
  std::unique_ptr<detail::shadow_state> s_;
};

/// An error document {code, message, timestamp[, clientToken]} for `ec` with `message`.
outcome rejection(std::error_code ec, std::string_view message, std::int64_t now,
                  std::string_view client_token = {});

/// The clientToken of a request payload, if it has a valid one (for error documents).
std::string client_token_of(std::string_view request, const limits& l = {});

}  // namespace iotblocks::shadow

IOTBLOCKS_API_END
