#!/usr/bin/python3
"""The broker against paho-mqtt (Debian python3-paho-mqtt 1.6) over TCP.

Usage: broker_paho.py <case> <port> <3|5>. Prints "ok" when the case passes;
otherwise raises (non-zero exit, the reason on stderr). Started by
broker_peers_test.cpp against a broker on 127.0.0.1:<port>.
"""
import socket
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

HOST = "127.0.0.1"
TIMEOUT = 10


class Client:
    """A paho client on its own network thread, with received messages queued."""

    def __init__(self, port, v5, client_id=None, clean=True, expiry=None, will=None,
                 receive_maximum=None):
        self.v5 = v5
        self.client_id = client_id or "paho-" + uuid.uuid4().hex[:8]
        if v5:
            self.c = mqtt.Client(self.client_id, protocol=mqtt.MQTTv5)
        else:
            self.c = mqtt.Client(self.client_id, clean_session=clean, protocol=mqtt.MQTTv311)
        self.messages = []
        self.cond = threading.Condition()
        self.connack = None
        self.c.on_message = self._on_message
        self.c.on_connect = self._on_connect
        self.c.on_subscribe = self._on_subscribe
        self.subacks = 0
        if will:
            topic, payload = will
            self.c.will_set(topic, payload, qos=1)
        props = None
        if v5:
            props = Properties(PacketTypes.CONNECT)
            if expiry is not None:
                props.SessionExpiryInterval = expiry
            if receive_maximum is not None:
                props.ReceiveMaximum = receive_maximum
            self.c.connect(HOST, port, keepalive=30, clean_start=clean, properties=props)
        else:
            self.c.connect(HOST, port, keepalive=30)
        self.c.loop_start()
        self.wait(lambda: self.connack is not None, "CONNACK")

    def _on_connect(self, client, userdata, flags, rc, properties=None):
        with self.cond:
            self.connack = (flags, rc)
            self.cond.notify_all()

    def _on_subscribe(self, client, userdata, mid, granted, properties=None):
        with self.cond:
            self.subacks += 1
            self.cond.notify_all()

    def _on_message(self, client, userdata, msg):
        with self.cond:
            self.messages.append(msg)
            self.cond.notify_all()

    def wait(self, predicate, what):
        with self.cond:
            if not self.cond.wait_for(predicate, TIMEOUT):
                raise AssertionError("timed out waiting for " + what)

    def subscribe(self, topic, qos):
        before = self.subacks
        self.c.subscribe(topic, qos)
        self.wait(lambda: self.subacks > before, "SUBACK of " + topic)

    def publish(self, topic, payload, qos=0, retain=False, properties=None):
        info = self.c.publish(topic, payload, qos=qos, retain=retain, properties=properties)
        info.wait_for_publish()
        return info

    def wait_messages(self, n):
        self.wait(lambda: len(self.messages) >= n, "%d messages" % n)
        return self.messages[:n]

    def stop(self):
        self.c.disconnect()
        self.c.loop_stop()


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def case_qos(port, v5):
    sub = Client(port, v5)
    sub.subscribe("paho/qos/#", 2)
    pub = Client(port, v5)
    for qos in (0, 1, 2):
        pub.publish("paho/qos/%d" % qos, b"q%d" % qos, qos=qos)
    got = sub.wait_messages(3)
    check(sorted((m.topic, m.payload, m.qos) for m in got) ==
          [("paho/qos/0", b"q0", 0), ("paho/qos/1", b"q1", 1), ("paho/qos/2", b"q2", 2)],
          "QoS 0/1/2 delivery: %r" % [(m.topic, m.payload, m.qos) for m in got])
    pub.stop()
    sub.stop()


def case_retained(port, v5):
    topic = "paho/retained/" + uuid.uuid4().hex[:6]
    pub = Client(port, v5)
    pub.publish(topic, b"kept", qos=1, retain=True)
    sub = Client(port, v5)
    sub.subscribe(topic, 1)
    m = sub.wait_messages(1)[0]
    check(m.payload == b"kept" and m.retain, "retained message: %r %r" % (m.payload, m.retain))
    pub.publish(topic, b"", qos=1, retain=True)  # clears it
    late = Client(port, v5)
    late.subscribe(topic, 1)
    time.sleep(0.3)
    check(not late.messages, "a cleared retained message was delivered")
    for c in (pub, sub, late):
        c.stop()


def case_will(port, v5):
    topic = "paho/will/" + uuid.uuid4().hex[:6]
    sub = Client(port, v5)
    sub.subscribe(topic, 1)
    dying = Client(port, v5, will=(topic, b"gone"))
    # Drop the TCP connection without DISCONNECT.
    dying.c.loop_stop()
    dying.c.socket().shutdown(socket.SHUT_RDWR)
    m = sub.wait_messages(1)[0]
    check(m.payload == b"gone", "will payload %r" % m.payload)
    sub.stop()


def case_shared(port, v5):
    group = "$share/g%s/paho/shared/#" % uuid.uuid4().hex[:6]
    a = Client(port, v5)
    b = Client(port, v5)
    a.subscribe(group, 1)
    b.subscribe(group, 1)
    pub = Client(port, v5)
    for i in range(20):
        pub.publish("paho/shared/x", b"%d" % i, qos=1)
    deadline = time.time() + TIMEOUT
    while len(a.messages) + len(b.messages) < 20 and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)
    check(len(a.messages) + len(b.messages) == 20,
          "shared: %d + %d messages" % (len(a.messages), len(b.messages)))
    check(a.messages and b.messages, "shared: one member got nothing")
    for c in (a, b, pub):
        c.stop()


def case_topic_alias(port, v5):
    check(v5, "topic aliases are MQTT 5")
    sub = Client(port, v5)
    sub.subscribe("paho/alias/#", 1)
    pub = Client(port, v5)
    props = Properties(PacketTypes.PUBLISH)
    props.TopicAlias = 3
    pub.publish("paho/alias/long/topic/name", b"first", qos=1, properties=props)
    pub.publish("", b"second", qos=1, properties=props)  # the alias alone
    got = sub.wait_messages(2)
    check([(m.topic, m.payload) for m in got] ==
          [("paho/alias/long/topic/name", b"first"), ("paho/alias/long/topic/name", b"second")],
          "alias: %r" % [(m.topic, m.payload) for m in got])
    pub.stop()
    sub.stop()


def case_flow_control(port, v5):
    # The subscriber allows 1 message in flight; the broker queues the rest.
    sub = Client(port, v5, receive_maximum=1 if v5 else None)
    sub.subscribe("paho/flow", 1)
    pub = Client(port, v5)
    for i in range(50):
        pub.c.publish("paho/flow", b"%d" % i, qos=1)
    got = sub.wait_messages(50)
    check([int(m.payload) for m in got] == list(range(50)), "flow: order or loss")
    pub.stop()
    sub.stop()


def case_session(port, v5):
    cid = "paho-keeper-" + uuid.uuid4().hex[:6]
    sub = Client(port, v5, client_id=cid, clean=True, expiry=600 if v5 else None)
    if not v5:  # 3.1.1: a persistent session needs clean session off from the start
        sub.stop()
        sub = Client(port, v5, client_id=cid, clean=False)
    sub.subscribe("paho/session", 1)
    sub.stop()
    pub = Client(port, v5)
    pub.publish("paho/session", b"while-away", qos=1)
    back = Client(port, v5, client_id=cid, clean=False, expiry=600 if v5 else None)
    check(back.connack[0]["session present"] == 1, "session present: %r" % (back.connack,))
    m = back.wait_messages(1)[0]
    check(m.payload == b"while-away", "queued payload %r" % m.payload)
    back.stop()
    pub.stop()


def main():
    case, port, version = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    globals()["case_" + case](port, version == "5")
    print("ok")


if __name__ == "__main__":
    main()
