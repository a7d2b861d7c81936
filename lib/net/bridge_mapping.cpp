// The sans-I/O part of the bridge: mosquitto's topic mapping and the checks of
// a bridge's options.
#include <iotblocks/core/error.hpp>
#include <iotblocks/net/bridge.hpp>
#include <iotblocks/topic/syntax.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <algorithm>
#include <array>

namespace iotblocks::net {
namespace {

failure bad(std::string message) {
  return failure{core::error::invalid_argument, std::move(message), {}};
}

bool exports(bridge_direction d) noexcept { return d != bridge_direction::in; }
bool imports(bridge_direction d) noexcept { return d != bridge_direction::out; }

// from_prefix + rest -> to_prefix + rest, when `name` matches from_filter.
std::optional<std::string> remap(std::string_view filter, std::string_view from_prefix,
                                 std::string_view to_prefix, std::string_view name) {
  if (topic::validate_name(name) || !topic::matches(filter, name)) return std::nullopt;
  // "L/#" also matches the parent "L", which does not carry the prefix "L/": such a
  // name has no place under the other prefix, so it is not mapped.
  if (!name.starts_with(from_prefix)) return std::nullopt;
  std::string out;
  out.reserve(to_prefix.size() + name.size() - from_prefix.size());
  out.append(to_prefix).append(name.substr(from_prefix.size()));
  if (topic::validate_name(out)) return std::nullopt;
  return out;
}

}  // namespace

std::string_view name(bridge_direction d) noexcept {
  switch (d) {
    case bridge_direction::out: return "out";
    case bridge_direction::in: return "in";
    case bridge_direction::both: return "both";
  }
  return "out";
}

result<void> validate(const bridge_topic& t) {
  if (t.qos > 2) return bad(fmt::format("qos {} is not 0, 1 or 2", t.qos));
  for (const auto& [which, prefix] : std::array<std::pair<const char*, const std::string*>, 2>{
           {{"local_prefix", &t.local_prefix}, {"remote_prefix", &t.remote_prefix}}}) {
    if (prefix->empty()) continue;
    if (topic::has_wildcards(*prefix))
      return bad(fmt::format("{} \"{}\" must not contain wildcards", which, *prefix));
    if (auto ec = topic::validate_name(*prefix))
      return bad(fmt::format("{} \"{}\": {}", which, *prefix, ec.message()));
  }
  if (t.pattern.empty()) {
    if (t.local_prefix.empty() || t.remote_prefix.empty()) {
      return bad("an empty pattern maps one topic and needs both local_prefix and remote_prefix");
    }
    return {};
  }
  if (topic::is_shared(t.pattern)) return bad("pattern must not be a $share filter");
  for (const auto& f : {local_filter(t), remote_filter(t)}) {
    if (auto ec = topic::validate_filter(f))
      return bad(fmt::format("\"{}\" is not a valid topic filter: {}", f, ec.message()));
  }
  return {};
}

std::string local_filter(const bridge_topic& t) { return t.local_prefix + t.pattern; }
std::string remote_filter(const bridge_topic& t) { return t.remote_prefix + t.pattern; }

std::optional<std::string> map_out(const bridge_topic& t, std::string_view local_topic) {
  if (!exports(t.direction)) return std::nullopt;
  return remap(local_filter(t), t.local_prefix, t.remote_prefix, local_topic);
}

std::optional<std::string> map_in(const bridge_topic& t, std::string_view remote_topic) {
  if (!imports(t.direction)) return std::nullopt;
  return remap(remote_filter(t), t.remote_prefix, t.local_prefix, remote_topic);
}

std::optional<mapped_topic> map_out(std::span<const bridge_topic> topics,
                                    std::string_view local_topic, std::uint8_t qos) {
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (auto m = map_out(topics[i], local_topic))
      return mapped_topic{std::move(*m), std::min(qos, topics[i].qos), i};
  }
  return std::nullopt;
}

std::optional<mapped_topic> map_in(std::span<const bridge_topic> topics,
                                   std::string_view remote_topic, std::uint8_t qos) {
  for (std::size_t i = 0; i < topics.size(); ++i) {
    if (auto m = map_in(topics[i], remote_topic))
      return mapped_topic{std::move(*m), std::min(qos, topics[i].qos), i};
  }
  return std::nullopt;
}

result<void> validate_options(const bridge_options& o) {
  if (o.name.empty()) return bad("name must not be empty");
  if (o.client.host.empty()) return bad("address must not be empty");
  if (o.client.port == 0) return bad("port must not be 0");
  if (o.topics.empty()) return bad("at least one topic is needed");
  for (std::size_t i = 0; i < o.topics.size(); ++i) {
    if (auto ok = validate(o.topics[i]); !ok)
      return bad(fmt::format("topics[{}]: {}", i, ok.fail().message.view()));
  }
  if (!o.notification_topic.empty() && topic::validate_name(o.notification_topic))
    return bad("notification_topic is not a valid topic name");
  if (!o.client.tls.cert_file.empty() && o.client.tls.key_file.empty() && !o.client.tls.enabled)
    return bad("a client certificate needs TLS");
  return {};
}

std::string default_bridge_client_id(std::string_view name) {
  std::array<char, 256> host{};
  if (::gethostname(host.data(), host.size() - 1) != 0) return std::string(name);
  return fmt::format("{}.{}", name, host.data());
}

}  // namespace iotblocks::net
