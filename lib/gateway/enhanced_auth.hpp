// Private: the gateway's MQTT 5 enhanced authentication methods.
// SCRAM-SHA-256 (RFC 5802 message flow, RFC 7677 hash) checks a client against
// the users' stored "pbkdf2-sha256$<iterations>$<salt>$<hash>" encodings: the
// PBKDF2-HMAC-SHA256 hash is SCRAM's SaltedPassword, so existing users work
// unchanged and the password never crosses the wire.
//
//   broker.on_enhanced_auth("SCRAM-SHA-256", detail::scram_sha256(
//       [&](std::string_view user) { return users.encoded(user); }));
//
// Flow: CONNECT (client-first) -> AUTH 0x18 (server-first: nonce, salt,
// iterations) -> AUTH 0x18 (client-final with the proof) -> CONNACK with the
// server signature (the client checks the server knew the password too).
#pragma once

#include <iotblocks/broker/broker.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace iotblocks::gateway::detail {

/// The stored encoding for a user name, or nothing for an unknown user.
using password_lookup = std::function<std::optional<std::string>(std::string_view user)>;

/// Exchanges for the method "SCRAM-SHA-256". An unknown user goes through the
/// same steps (with a made-up salt) and fails at the proof: 0x86.
broker::broker::enhanced_auth_fn scram_sha256(password_lookup lookup);

}  // namespace iotblocks::gateway::detail
