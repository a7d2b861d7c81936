// Action names of AWS IoT policies. Every `iot:` action that AWS IoT Core
// defines (the MQTT, shadow, job-execution and credential actions, and the
// control-plane API actions) has a stable small id, so that a statement's
// Action list compiles to a bit set and a request's action is one bit test.
//
//   policy::action_id a = policy::actions::publish;
//   policy::action_name(a);                          // "iot:Publish"
//   policy::find_action("IOT:publish") == a;          // names are case-insensitive
#pragma once

#include <iotblocks/core/export.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

IOTBLOCKS_API_BEGIN

namespace iotblocks::policy {

/// The id of a known action. Ids are stable within one build of the library.
struct action_id {
  std::uint16_t value = 0;
  friend constexpr bool operator==(action_id, action_id) = default;
};

/// Ids of the data-plane actions (the ones a broker or gateway asks about).
namespace actions {
inline constexpr action_id connect{0};                 ///< iot:Connect, resource client/<id>
inline constexpr action_id publish{1};                 ///< iot:Publish, resource topic/<name>
inline constexpr action_id subscribe{2};               ///< iot:Subscribe, topicfilter/<filter>
inline constexpr action_id receive{3};                 ///< iot:Receive, topic/<name>
inline constexpr action_id retain_publish{4};          ///< iot:RetainPublish, topic/<name>
inline constexpr action_id get_retained_message{5};    ///< iot:GetRetainedMessage, topic/<name>
inline constexpr action_id list_retained_messages{6};  ///< iot:ListRetainedMessages, "*"
inline constexpr action_id delete_connection{7};       ///< iot:DeleteConnection, client/<id>
inline constexpr action_id get_thing_shadow{8};        ///< iot:GetThingShadow, thing/<name>
inline constexpr action_id update_thing_shadow{9};     ///< iot:UpdateThingShadow, thing/<name>
inline constexpr action_id delete_thing_shadow{10};    ///< iot:DeleteThingShadow, thing/<name>
inline constexpr action_id list_named_shadows_for_thing{11};
inline constexpr action_id describe_job_execution{12};
inline constexpr action_id get_pending_job_executions{13};
inline constexpr action_id update_job_execution{14};
inline constexpr action_id start_next_pending_job_execution{15};
inline constexpr action_id assume_role_with_certificate{16};  ///< credentials provider
}  // namespace actions

/// Number of known actions; every id is below this.
std::size_t action_count() noexcept;

/// The canonical name ("iot:Publish") of a known action; empty for an invalid id.
std::string_view action_name(action_id a) noexcept;

/// The id of a known action name, compared case-insensitively; nullopt otherwise.
std::optional<action_id> find_action(std::string_view name) noexcept;

}  // namespace iotblocks::policy

IOTBLOCKS_API_END
