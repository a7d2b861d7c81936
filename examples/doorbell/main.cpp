// doorbell: a doorbell publishes on `doorbell/<door>`; the rule
// `SELECT * FROM 'doorbell/+'` sends the message as is (messageFormat RAW) to the
// notify topic `door-alert`, whose webhook subscription POSTs it to a phone's
// push service, a chat hook, or here the URL given on the command line.
//
//   doorbell WEBHOOK_URL [PORT]      # prints "mqtt 127.0.0.1:<port>", runs until stdin closes
//   mosquitto_pub -p <port> -t doorbell/front -m '{"button":"front","battery":87}'
//
// Wired from the blocks: the broker on a TCP listener, the rules engine on every
// message the broker accepts, a notify topic with a webhook sink.
#include <iotblocks/broker/broker.hpp>
#include <iotblocks/net/server.hpp>
#include <iotblocks/net_broker/handler.hpp>
#include <iotblocks/net_rules/transports.hpp>
#include <iotblocks/rules/engine.hpp>
#include <iotblocks/rules/notify.hpp>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

using namespace iotblocks;

namespace {

constexpr const char* rule = R"({
  "sql": "SELECT * FROM 'doorbell/+'",
  "actions": [{"sns": {"targetArn": "arn:aws:sns:us-east-1:000000000000:door-alert",
                       "messageFormat": "RAW"}}]
})";

int fail(const std::string& what) {
  std::fprintf(stderr, "doorbell: %s\n", what.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) return fail("usage: doorbell WEBHOOK_URL [PORT]");
  const auto port = static_cast<std::uint16_t>(argc == 3 ? std::atoi(argv[2]) : 0);

  // Rules: one notify topic, its webhook subscription, the rule.
  rules::engine_options eo;
  eo.http = std::make_shared<net_rules::http_client_transport>();  // webhooks over net's client
  rules::engine engine{eo};
  auto topic = engine.notifier().create_topic("door-alert");
  if (!topic) return fail(topic.describe());
  rules::webhook_options hook;
  hook.raw_message_delivery = true;  // the doorbell's JSON as the POST body
  if (auto s = engine.notifier().subscribe(*topic, rules::webhook_sink(eo.http, argv[1], hook));
      !s) {
    return fail(s.describe());
  }
  if (auto r = engine.add_rule("doorbell", rule); !r) return fail(r.describe());

  // MQTT: the broker on a TCP listener; every accepted message goes to the rules.
  broker::broker broker;
  broker.on_accepted([&engine](const broker::message& m, const broker::client_info* from) {
    rules::message rm;
    rm.topic = m.topic;
    rm.payload = m.payload;
    rm.qos = m.qos;
    if (from != nullptr) rm.client_id = from->client_id;
    engine.dispatch(rm);
  });
  net_broker::handler binding{broker};  // the broker on the server's connections
  net::server server;
  net::listener_options tcp;
  tcp.port = port;  // on 127.0.0.1
  auto bound = server.listen(tcp);
  if (!bound) return fail(bound.describe());
  server.start(binding);
  std::printf("mqtt 127.0.0.1:%u\n", static_cast<unsigned>(*bound));
  std::fflush(stdout);

  for (std::string line; std::getline(std::cin, line);) {
  }
  server.stop();
  engine.stop();  // lets queued notifications go out
  return 0;
}
