// The MQTT 5 properties of a PUBLISH into the message a rule evaluates, so
// get_mqtt_property() and get_user_properties() see what the device sent.
// Header-only over any type with mqtt::properties_view's getters: rules does
// not link mqtt.
//
//   std::vector<sql::user_property> users;
//   rules::message m;
//   m.topic = p.topic;
//   m.payload = p.payload;
//   rules::set_mqtt_properties(m, p.properties, users);   // an mqtt::properties_view
//   engine.dispatch(m);
#pragma once

#include <iotblocks/core/export.hpp>
#include <iotblocks/sql/message.hpp>

#include <vector>

IOTBLOCKS_API_BEGIN

namespace iotblocks::rules {

/// Sets the payload format indicator, content type, response topic,
/// correlation data, message expiry interval and user properties of `m` from
/// `props`. `users` holds the user properties `m` points to (views into
/// `props`): keep both alive while `m` is used.
template <class Properties>
void set_mqtt_properties(sql::message& m, const Properties& props,
                         std::vector<sql::user_property>& users) {
  users.clear();
  m.payload_format_indicator = props.payload_format_indicator();
  m.content_type = props.content_type();
  m.response_topic = props.response_topic();
  m.correlation_data = props.correlation_data();
  m.message_expiry_interval = props.message_expiry_interval();
  for (const auto& p : props.user_properties()) users.push_back({p.name, p.value});
  m.user_properties = users;
}

}  // namespace iotblocks::rules

IOTBLOCKS_API_END
