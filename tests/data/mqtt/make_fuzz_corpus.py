#!/usr/bin/env python3
"""Seeds tests/fuzz/corpus/mqtt_{decode,roundtrip,chunking}/ from the test
vectors: every packet of mqtt_packet_vectors.json, iotblocks_vectors.json and
malformed.json, plus a few whole sessions. File = config byte (see
tests/fuzz/mqtt_fuzz.hpp) [+ chunk seed byte for mqtt_chunking] + bytes.
The committed corpora are these seeds plus what the campaigns found, merged
with -merge=1 -use_counters=0 (same edge coverage, ~350 files each).

    python3 tests/data/mqtt/make_fuzz_corpus.py
"""
import json
import os

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.normpath(os.path.join(here, '..', '..', '..'))
presets = {None: 0, '3.1': 1, '3.1.1': 2, '5': 3}


def config(protocol, role, small=False):
    return (1 if role == 'client' else 0) | presets[protocol] << 1 | (8 if small else 0)


seeds = []  # (name, config, bytes)
for file in ('mqtt_packet_vectors.json', 'iotblocks_vectors.json'):
    for v in json.load(open(os.path.join(here, file)))['vectors']:
        seeds.append((v['name'], config(v['protocol'], v['role']), bytes.fromhex(v['hex'])))
for c in json.load(open(os.path.join(here, 'malformed.json')))['cases']:
    seeds.append(('bad_' + c['name'], config(c['protocol'], c['role'], 'limits' in c),
                  bytes.fromhex(c['hex'].replace(' ', ''))))

# Whole sessions: the server learns the version from CONNECT.
by_name = {name: data for name, _, data in seeds}
for version in ('v311', 'v5'):
    session = b''.join(by_name[f'{version}_{n}'] for n in (
        'connect_full', 'subscribe', 'publish_greenhouse_qos1', 'pubrel', 'unsubscribe',
        'pingreq', 'disconnect'))
    seeds.append((f'session_server_{version}', config(None, 'server'), session))
    client = b''.join(by_name[f'{version}_{n}'] for n in (
        'connack_accepted', 'suback', 'publish_qos2_dup_retain_binary', 'puback', 'pingresp'))
    seeds.append((f'session_client_{version}', config('5' if version == 'v5' else '3.1.1', 'client'),
                  client))

for target in ('mqtt_decode', 'mqtt_roundtrip', 'mqtt_chunking'):
    out = os.path.join(root, 'tests', 'fuzz', 'corpus', target)
    os.makedirs(out, exist_ok=True)
    for i, (name, cfg, data) in enumerate(seeds):
        prefix = bytes([cfg]) + (bytes([i % 251]) if target == 'mqtt_chunking' else b'')
        with open(os.path.join(out, 'seed_' + name), 'wb') as f:
            f.write(prefix + data)
    print(f'{target}: {len(seeds)} seeds')
