// Private: the state behind shadow::document, and the merge, delta and metadata
// algorithms over it (document_state.cpp).
#pragma once

#include "shadow/tree.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace iotblocks::shadow::detail {

struct shadow_state {
  node desired;   ///< an object, or null when the section is absent
  node reported;  ///< an object, or null when the section is absent
  std::int64_t version = 0;
  std::int64_t deleted_at = 0;  ///< tombstone time; 0 while alive or never existed
  bool exists = false;
  /// An upper bound of serialized_size(desired) + serialized_size(reported).
  std::size_t size_bound = 0;
  bool size_exact = true;
  /// write_snapshot() of this state when it was at `snapshot_version` (0: none): the
  /// next update's update/documents "previous", without serialising it again.
  std::string snapshot;
  std::int64_t snapshot_version = 0;
};

/// Compact size of the present sections (the 413 measure).
std::size_t state_size(const shadow_state& s) noexcept;

/// Merges the update's section `patch` (an object or null) into `section`, stamping
/// every written leaf with `ts`. An emptied section becomes null (absent).
void merge_section(node& section, const node& patch, std::int64_t ts);

/// A lower bound of the compact size any merge of `patch` produces: its non-null
/// leaves all end up in the document.
std::size_t written_size(const node& patch) noexcept;

/// Metadata of a stored value: {"timestamp":ts} per leaf, arrays element by element.
void write_metadata(writer& w, const node& n);
/// Metadata of a freshly written value: every leaf (null included) gets `ts`.
void write_metadata_at(writer& w, const node& n, std::int64_t ts);

/// What the delta takes from each desired member, in pre-order (mark_delta).
inline constexpr std::uint8_t delta_skip = 0;
inline constexpr std::uint8_t delta_whole = 1;
inline constexpr std::uint8_t delta_descend = 2;

/// Marks, in one pass, which desired attributes (desired is an object) differ from
/// reported (an object or null); true if any does.
bool mark_delta(const node& desired, const node* reported, std::vector<std::uint8_t>& marks);
/// The delta object, or its metadata (desired's timestamps), from the marks.
void write_delta(writer& w, const node& desired, const std::vector<std::uint8_t>& marks);
void write_delta_metadata(writer& w, const node& desired, const std::vector<std::uint8_t>& marks);

/// {"state":{…},"metadata":{…},"version":N} (update/documents previous and current).
void write_snapshot(writer& w, const shadow_state& s);

}  // namespace iotblocks::shadow::detail
