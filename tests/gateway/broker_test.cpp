// The broker against real clients: mosquitto_pub / mosquitto_sub (Debian
// mosquitto-clients) and raw sockets, on 127.0.0.1.
#include <iotblocks/gateway/broker.hpp>
#include <iotblocks/mqtt.hpp>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <string>
#include <thread>

namespace iotblocks::gateway {
namespace {

using namespace std::chrono_literals;

// Runs a shell command and returns its standard output.
std::string run(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

class Broker : public ::testing::Test {
 protected:
  void SetUp() override {
    net::server_options o;
    o.threads = 2;
    server_ = std::make_unique<net::server>(o);
    net::listener_options l;
    l.port = 0;
    port_ = server_->listen(l).value();
  }
  void start() { server_->start(broker_); }
  void TearDown() override { server_->stop(); }

  std::string client(const std::string& tool, const std::string& args) const {
    return tool + " -h 127.0.0.1 -p " + std::to_string(port_) + " " + args;
  }

  // Subscribes in the background with mosquitto_sub; publishes with
  // mosquitto_pub until the subscriber has what it waits for (so there is no
  // race with the SUBSCRIBE), and returns what it printed.
  std::string pub_until_received(const std::string& sub_args, const std::string& pub_args) {
    auto sub =
        std::async(std::launch::async, [&] { return run(client("mosquitto_sub", sub_args)); });
    for (int i = 0; i < 100; ++i) {
      if (sub.wait_for(100ms) == std::future_status::ready) break;
      run(client("mosquitto_pub", pub_args));
    }
    return sub.get();
  }

  broker broker_;
  std::unique_ptr<net::server> server_;
  std::uint16_t port_ = 0;
};

TEST_F(Broker, QoS0And1And2WithMosquittoClients) {
  start();
  for (const char* qos : {"0", "1", "2"}) {
    const std::string q = qos;
    const auto got = pub_until_received("-t 'greenhouse/+/lux' -q " + q + " -C 1 -W 10 -v",
                                        "-t greenhouse/probe_1/lux -q " + q + " -m 36250");
    EXPECT_EQ(got, "greenhouse/probe_1/lux 36250\n") << "QoS " << q;
  }
}

TEST_F(Broker, Mqtt5ClientsAndSubscriptionIdentifiers) {
  start();
  const auto got = pub_until_received("-V mqttv5 -t 'a/#' -q 1 -C 1 -W 10 -F '%t %p %q'",
                                      "-V mqttv5 -t a/b -q 1 -m hello");
  EXPECT_EQ(got, "a/b hello 1\n");
}

TEST_F(Broker, RetainedMessageReachesLaterSubscriber) {
  start();
  run(client("mosquitto_pub", "-t doorbell/front -r -q 1 -m ring"));
  EXPECT_EQ(broker_.retained_count(), 1u);
  EXPECT_EQ(run(client("mosquitto_sub", "-t 'doorbell/+' -C 1 -W 10 -v")), "doorbell/front ring\n");
  run(client("mosquitto_pub", "-t doorbell/front -r -q 1 -n"));  // empty retained clears
  EXPECT_EQ(broker_.retained_count(), 0u);
}

TEST_F(Broker, WillIsPublishedWhenAClientDisappears) {
  start();
  // A client with a (retained) will is killed without DISCONNECT; a later
  // subscriber finds the will, so no sleep races the subscription.
  run("timeout -s KILL 1 " + client("mosquitto_sub",
                                    "-t x -i dying --will-topic status/dying "
                                    "--will-payload gone --will-retain"));
  EXPECT_EQ(run(client("mosquitto_sub", "-t 'status/#' -C 1 -W 10 -v")), "status/dying gone\n");
}

TEST_F(Broker, AuthorizationRefusesAndNeverDelivers) {
  broker_.on_authorize([](const client_info& c, action a, std::string_view topic) {
    return a != action::publish || topic == "Greenhouse/" + c.client_id;
  });
  start();
  // Allowed: own lane.
  EXPECT_EQ(pub_until_received("-t 'Greenhouse/#' -C 1 -W 10 -v",
                               "-i probe_1 -t Greenhouse/probe_1 -m ok"),
            "Greenhouse/probe_1 ok\n");
  // Denied (MQTT 5, QoS 1: PUBACK 0x87) and not delivered to a subscriber.
  auto sub = std::async(std::launch::async, [&] {
    return run(client("mosquitto_sub", "-t 'Greenhouse/#' -C 1 -W 3 -v"));
  });
  std::this_thread::sleep_for(300ms);
  run(client("mosquitto_pub", "-V mqttv5 -q 1 -i probe_1 -t Greenhouse/probe_2 -m spoof"));
  EXPECT_EQ(sub.get(), "");
  EXPECT_EQ(broker_.stats().messages_in.load(), 1u);
}

TEST_F(Broker, MalformedClientIsDisconnectedOthersServed) {
  start();
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket bad(io);
  bad.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
  // MQTT 5 CONNECT, then a PUBLISH with QoS 3 (malformed).
  const std::string connect("\x10\x0D\x00\x04MQTT\x05\x02\x00\x3C\x00\x00\x00", 15);
  boost::asio::write(bad,
                     boost::asio::buffer(connect + std::string("\x36\x05\x00\x01t\x00\x01", 7)));
  // Read to the end and decode as a client would: CONNACK, then DISCONNECT 0x81.
  std::string bytes;
  boost::system::error_code ec;
  boost::asio::read(bad, boost::asio::dynamic_buffer(bytes), ec);
  EXPECT_EQ(ec, boost::asio::error::eof);
  mqtt::decoder d{mqtt::role::client};
  d.protocol(mqtt::protocol_version::v5);
  std::vector<mqtt::packet_type> types;
  mqtt::reason_code why = mqtt::reason_code::success;
  std::error_code dec;
  d.put_all(
      as_bytes(bytes),
      [&](const mqtt::packet_view& p) {
        types.push_back(mqtt::type_of(p));
        if (auto* dis = std::get_if<mqtt::disconnect_view>(&p)) why = dis->reason;
      },
      dec);
  EXPECT_FALSE(dec) << dec.message();
  EXPECT_EQ(types, (std::vector<mqtt::packet_type>{mqtt::packet_type::connack,
                                                   mqtt::packet_type::disconnect}));
  EXPECT_EQ(why, mqtt::reason_code::malformed_packet);
  EXPECT_EQ(pub_until_received("-t ok -C 1 -W 10", "-t ok -m still-serving"), "still-serving\n");
}

TEST_F(Broker, PersistentSessionQueuesQoS1WhileOffline) {
  start();
  // Subscribe with a persistent session, then leave.
  run(client("mosquitto_sub", "-i keeper -c -q 1 -t 'queue/#' -W 1") + " >/dev/null 2>&1");
  run(client("mosquitto_pub", "-q 1 -t queue/a -m m1"));
  run(client("mosquitto_pub", "-q 1 -t queue/a -m m2"));
  EXPECT_EQ(run(client("mosquitto_sub", "-i keeper -c -q 1 -t 'queue/#' -C 2 -W 10")), "m1\nm2\n");
}

}  // namespace
}  // namespace iotblocks::gateway
