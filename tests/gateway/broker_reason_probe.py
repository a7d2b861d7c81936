#!/usr/bin/env python3
"""Sends refused or borderline MQTT packets to a broker on 127.0.0.1:PORT and
prints what comes back (hex, then <EOF>, <RST> or <timeout>): the reason codes
a broker picks where MQTT allows two answers. docs/mqtt.md compares iotblocks
with mosquitto this way:

  /usr/sbin/mosquitto -p 18931 &  # anonymous, localhost only
  python3 tests/gateway/broker_reason_probe.py 18931
"""
import socket
import struct
import sys
import time


def vbi(n):
    out = b''
    while True:
        d, n = n % 128, n // 128
        out += bytes([d | (0x80 if n else 0)])
        if not n:
            return out


def s(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack('>H', len(b)) + b


def pkt(first, body):
    return bytes([first]) + vbi(len(body)) + body


def connect(cid=b'probe', props=b'', will=None, willprops=b'', v=5):
    flags = 0x02 | (0x04 if will is not None else 0)
    body = s('MQTT') + bytes([v, flags]) + struct.pack('>H', 60)
    if v == 5:
        body += vbi(len(props)) + props
    body += s(cid)
    if will is not None:
        if v == 5:
            body += vbi(len(willprops)) + willprops
        body += s(will) + s(b'gone')
    return pkt(0x10, body)


def publish(topic, v=5):
    return pkt(0x32, s(topic) + struct.pack('>H', 1) + (b'\x00' if v == 5 else b'') + b'x')


def subscribe(f, v=5):
    return pkt(0x82, struct.pack('>H', 1) + (b'\x00' if v == 5 else b'') + s(f) + b'\x01')


CASES = [
    ('v5 Topic Alias in CONNECT', [connect(props=b'\x23\x00\x01')]),
    ('v5 Session Expiry twice', [connect(props=b'\x11\x00\x00\x00\x05' * 2)]),
    ('v5 ill-formed UTF-8 client id', [connect(cid=b'ab\xff')]),
    ('v5 will topic a/+', [connect(will=b'a/+')]),
    ('v5 Session Expiry in will properties', [connect(will=b'a/b', willprops=b'\x11\x00\x00\x00\x05')]),
    ('v5 client id U+0001', [connect(cid=b'a\x01b')]),
    ('v5 client id U+007F', [connect(cid=b'a\x7fb')]),
    ('v5 client id U+0080', [connect(cid=b'a\xc2\x80b')]),
    ('v5 client id U+FFFF', [connect(cid=b'a\xef\xbf\xbfb')]),
    ('v5 will topic U+0085', [connect(will=b'a/\xc2\x85')]),
    ('v5 PUBLISH topic U+0001', [connect(), publish(b'a/\x01')]),
    ('v5 PUBLISH topic U+0085', [connect(), publish(b'a/\xc2\x85')]),
    ('v5 SUBSCRIBE filter U+0001', [connect(), subscribe(b'a/\x01')]),
    ('3.1.1 client id U+0001', [connect(cid=b'a\x01b', v=4)]),
    ('3.1.1 PUBLISH topic U+0001', [connect(v=4), publish(b'a/\x01', v=4)]),
    ('3.1.1 ill-formed UTF-8 client id', [connect(cid=b'ab\xff', v=4)]),
    ('protocol level 6', [connect(v=6)]),
]


def run(port, name, packets):
    c = socket.create_connection(('127.0.0.1', port))
    c.settimeout(2)
    for p in packets:
        c.sendall(p)
        time.sleep(0.05)
    data, end = b'', '<timeout>'
    try:
        while True:
            d = c.recv(4096)
            if not d:
                end = '<EOF>'
                break
            data += d
    except socket.timeout:
        pass
    except ConnectionResetError:
        end = '<RST>'
    c.close()
    print(f'{name:40s} {data.hex(" ")} {end}')


if __name__ == '__main__':
    for name, packets in CASES:
        run(int(sys.argv[1]), name, packets)
