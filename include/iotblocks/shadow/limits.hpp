// Limits of the shadow service, with AWS IoT's values as defaults.
//
//   auto l = iotblocks::shadow::limits{}.max_document_size(16 * 1024).max_depth(8);
#pragma once

#include <iotblocks/core/export.hpp>

#include <chrono>
#include <cstddef>

IOTBLOCKS_API_BEGIN

namespace iotblocks::shadow {

/// Named limits with documented defaults. Distinct objects: safe. Shared objects: unsafe.
class limits {
 public:
  /// Largest desired + reported state after an update, in bytes of compact JSON;
  /// metadata is not counted. Default 8192 (413 above it).
  limits& max_document_size(std::size_t n) noexcept { return set(document_, n); }
  std::size_t max_document_size() const noexcept { return document_; }

  /// Largest request payload read at all. Default 131072, the MQTT payload limit (413).
  limits& max_request_size(std::size_t n) noexcept { return set(request_, n); }
  std::size_t max_request_size() const noexcept { return request_; }

  /// Deepest nesting of objects and arrays, counting the `state` object as level 1.
  /// Default 6 (400 above it).
  limits& max_depth(unsigned n) noexcept {
    depth_ = n;
    return *this;
  }
  unsigned max_depth() const noexcept { return depth_; }

  /// Longest thing name in bytes (names match [a-zA-Z0-9:_-]+). Default 128.
  limits& max_thing_name(std::size_t n) noexcept { return set(thing_, n); }
  std::size_t max_thing_name() const noexcept { return thing_; }

  /// Longest shadow name in bytes (names match [a-zA-Z0-9:_-]+). Default 64.
  limits& max_shadow_name(std::size_t n) noexcept { return set(shadow_, n); }
  std::size_t max_shadow_name() const noexcept { return shadow_; }

  /// Longest clientToken in bytes. Default 64.
  limits& max_client_token(std::size_t n) noexcept { return set(token_, n); }
  std::size_t max_client_token() const noexcept { return token_; }

  /// Requests one connection may have in flight before 429. Default 10.
  limits& max_in_flight(std::size_t n) noexcept { return set(in_flight_, n); }
  std::size_t max_in_flight() const noexcept { return in_flight_; }

  /// How long a deleted shadow's version is remembered: re-created within this time,
  /// it continues from the deleted version; later it starts again at 1. Default 48 h.
  limits& version_retention(std::chrono::seconds s) noexcept {
    retention_ = s;
    return *this;
  }
  std::chrono::seconds version_retention() const noexcept { return retention_; }

 private:
  limits& set(std::size_t& field, std::size_t n) noexcept {
    field = n;
    return *this;
  }
  std::size_t document_ = 8192;
  std::size_t request_ = 131072;
  unsigned depth_ = 6;
  std::size_t thing_ = 128;
  std::size_t shadow_ = 64;
  std::size_t token_ = 64;
  std::size_t in_flight_ = 10;
  std::chrono::seconds retention_ = std::chrono::hours(48);
};

}  // namespace iotblocks::shadow

IOTBLOCKS_API_END
