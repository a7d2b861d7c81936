// Private: the fleet indexing configuration of the AWS-shaped API
// (update-indexing-configuration), kept in fleet_indexing.db and committed before the call
// answers. The documents are stored as the API returns them (ThingIndexingConfiguration and
// ThingGroupIndexingConfiguration); read_*() check a request's and name the field at fault.
#pragma once

#include <iotblocks/core/result.hpp>
#include <iotblocks/gateway/gateway.hpp>
#include <iotblocks/registry/fleet_query.hpp>
#include <iotblocks/registry/records.hpp>

#include "core/json.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace iotblocks::gateway::aws {

/// What search-index and describe-index need of the configuration.
struct indexing_config {
  std::string thing_mode = "OFF";            ///< OFF, REGISTRY, REGISTRY_AND_SHADOW
  std::string connectivity_mode = "OFF";     ///< OFF, STATUS
  std::string named_shadow_mode = "OFF";     ///< OFF, ON
  std::vector<std::string> named_shadows{};  ///< filter.namedShadowNames
  std::string group_mode = "OFF";            ///< OFF, ON
  std::string thing_json = R"({"thingIndexingMode":"OFF","thingConnectivityIndexingMode":"OFF"})";
  std::string group_json = R"({"thingGroupIndexingMode":"OFF"})";
};

/// Reads a ThingIndexingConfiguration into `c` (mode fields and thing_json), or the error
/// ("thingIndexingConfiguration.thingIndexingMode: expected one of OFF, REGISTRY, …").
std::optional<std::string> read_thing_indexing(const rapidjson::Value& v, indexing_config& c);
/// Reads a ThingGroupIndexingConfiguration into `c`.
std::optional<std::string> read_group_indexing(const rapidjson::Value& v, indexing_config& c);

/// The searchable document of a thing (aws_api_index.cpp): registry fields, connectivity when
/// indexed, and the indexed shadows when `with_shadow`.
registry::thing_document index_document(gateway::impl& g, const indexing_config& cfg,
                                        const registry::thing& t, bool with_shadow);

/// A dynamic thing group's query.
struct dynamic_group {
  std::string query{};
  std::string index_name = "AWS_Things";
  std::string query_version = "2017-09-30";
};

/// Distinct objects: safe. Shared objects: safe (one mutex).
class index_config_store {
 public:
  static result<std::unique_ptr<index_config_store>> open(const std::string& path);
  ~index_config_store();
  index_config_store(const index_config_store&) = delete;
  index_config_store& operator=(const index_config_store&) = delete;

  indexing_config get() const;
  /// Stores `c` (both documents in one transaction); durable when it returns.
  result<void> set(const indexing_config& c);

  /// The dynamic thing groups, by name.
  std::map<std::string, dynamic_group, std::less<>> dynamic_groups() const;
  /// The dynamic groups' queries, parsed when stored, by group name: all of them, or those
  /// with a term under `prefix` ("shadow.", "connectivity."; a term without a field too).
  std::vector<std::pair<std::string, registry::fleet_query>> dynamic_queries(
      std::string_view prefix = {}) const;
  /// Stores (creates or replaces) a dynamic group's query; durable when it returns.
  result<void> set_dynamic(std::string_view name, const dynamic_group& g);
  result<void> remove_dynamic(std::string_view name);

 private:
  struct impl;
  explicit index_config_store(std::unique_ptr<impl> p);
  std::unique_ptr<impl> p_;
};

}  // namespace iotblocks::gateway::aws
