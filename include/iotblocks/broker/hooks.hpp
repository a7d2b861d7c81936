// What the broker asks its owner: who a client is (authentication, MQTT 5
// enhanced authentication) and what it may do (authorization).
#pragma once

#include <iotblocks/broker/connection.hpp>
#include <iotblocks/core/bytes.hpp>
#include <iotblocks/core/export.hpp>
#include <iotblocks/mqtt/packet.hpp>

#include <cstdint>
#include <memory>
#include <string>

IOTBLOCKS_API_BEGIN

namespace iotblocks::broker {

/// What the hooks know about a client.
struct client_info {
  std::string client_id;
  std::string username;
  mqtt::protocol_version version = mqtt::protocol_version::v5;
  const peer_info* peer = nullptr;
  std::shared_ptr<void> principal;  ///< set by the authenticate hook (e.g. a policy session)
  /// MQTT 5 enhanced authentication: the method that succeeded (empty: none).
  /// The authenticate hook still runs after it (for the policy session).
  std::string auth_method;
  /// What a deferred authenticate hook resumed the CONNECT with (broker::connect_resumer),
  /// for the authenticate hook that runs next; null when no deferred hook took the CONNECT.
  std::shared_ptr<const void> credentials;
};

/// One MQTT 5 enhanced authentication exchange (Authentication Method and
/// Data carried by CONNECT, AUTH and CONNACK), made for one CONNECT or
/// re-authentication. Distinct objects: safe. Shared objects: unsafe (the
/// broker calls one exchange from one thread at a time).
class auth_exchange {
 public:
  struct step {
    enum class outcome : std::uint8_t { more, success, failure };
    outcome result = outcome::failure;
    /// Authentication Data for the client: with `more` in AUTH 0x18; with
    /// `success` in the CONNACK (or the AUTH 0x00 ending a re-authentication).
    byte_buffer data;
    mqtt::reason_code reason = mqtt::reason_code::not_authorized;  ///< with `failure`
    std::string identity;  ///< with `success`: becomes client_info::username
  };
  virtual ~auth_exchange() = default;
  /// The client's Authentication Data: from the CONNECT (or AUTH 0x19), then each AUTH 0x18.
  virtual step next(bytes_view data) = 0;
};

enum class action { publish, subscribe, receive, retain_publish };

/// What the broker does with a client's PUBLISH, as the owner's publish gate
/// decides before authorization (broker::on_publish_gate): reserved topic
/// spaces such as AWS IoT's `$aws/` exist only where the owner implements them.
struct publish_verdict {
  enum class kind : std::uint8_t {
    route,    ///< as any topic: authorization, subscribers, retained store
    consume,  ///< authorized, acknowledged and handed to on_accepted only: no
              ///< subscriber gets it, nothing is retained (AWS IoT Basic Ingest)
    refuse,   ///< not published: MQTT 5 PUBACK/PUBREC with `reason`; 3.1.1,
              ///< which cannot say no, is disconnected
  };
  kind what = kind::route;
  mqtt::reason_code reason = mqtt::reason_code::success;  ///< with `refuse`
};

}  // namespace iotblocks::broker

IOTBLOCKS_API_END
