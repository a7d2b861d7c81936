// Private: the built-in actions and what they need from the engine.
#pragma once

#include <iotblocks/rules/action.hpp>
#include <iotblocks/rules/engine.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

namespace iotblocks::rules::detail {

/// Engine services the built-in actions use; outlives every action.
struct services {
  const iotblocks::clock* time = nullptr;
  std::string region;
  std::string account;
  std::shared_ptr<item_store> store;
  metric_store* metrics = nullptr;
  rules::notifier* notify = nullptr;
  std::shared_ptr<rules::publisher> publisher;
  std::shared_ptr<http_transport> http;
  std::shared_ptr<command_transport> command;
  std::function<function_callback(std::string_view name)> find_function;
};

/// Adds the factories of the built-in action types.
void register_builtins(std::map<std::string, action_factory, std::less<>>& factories,
                       const services& s);

/// Adds the `anomaly` action (anomaly_action.cpp).
void register_anomaly(std::map<std::string, action_factory, std::less<>>& factories,
                      const services& s);

/// "HttpAction", "DynamoAction", ... as AWS names them in error messages.
std::string failed_action_name(std::string_view type);

}  // namespace iotblocks::rules::detail
