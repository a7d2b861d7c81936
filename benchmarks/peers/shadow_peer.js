// Peer for shadow_benchmark's BM_UpdateModel/documents:0: the same update stream applied
// by a straightforward Node.js implementation of the same semantics (JSON.parse, merge
// with null deletes, per-leaf metadata, version, update/accepted and update/delta
// payloads with JSON.stringify). Written for this comparison; not a library.
// Usage: node shadow_peer.js [seconds]   Prints {"peer":..., "updates_per_second":...}
'use strict';

const base = {
  "desired": {
    "light": {
      "power": "on",
      "brightness": 80,
      "color": {
        "r": 255,
        "g": 180,
        "b": 40
      }
    },
    "firmware": "https://updates.example.com/devices/lamp/firmware/channel/stable/2.4.1/lamp-2.4.1-20240101-release-signed.bin"
  },
  "reported": {
    "light": {
      "power": "off",
      "brightness": 75,
      "color": {
        "r": 255,
        "g": 170,
        "b": 40
      }
    },
    "firmware": "https://updates.example.com/devices/lamp/firmware/channel/stable/2.4.0/lamp-2.4.0-20231101-release-signed.bin",
    "schedule": {
      "wake": "weekdays 06:30 ramp 15 min to 80 percent, weekends 08:00",
      "sleep": "every day 22:30 fade out over 30 minutes unless motion detected"
    },
    "sensors": {
      "temperature": 21.5,
      "humidity": 41.25,
      "location": "kitchen ceiling, north-east corner next to the window, above the sink, mounted on the second rail from the wall, installed 2023-11-01 by the landlord's electrician, circuit 12, dimmable warm-white 2700K driver, serial LMP-2023-004417"
    },
    "network": {
      "rssi": -61,
      "ssid": "home-iot-2.4GHz-network-second-floor-kitchen-access-point-guest-isolated",
      "ip": "192.168.100.243"
    }
  }
};

function requests() {  // the benchmark's 256 payloads, byte for byte
  const out = [];
  for (let i = 0; i < 256; ++i) {
    if (i % 2 === 0) {
      out.push(`{"state":{"desired":{"light":{"brightness":${i % 100},"color":{"g":${100 + i % 150}}}}},"clientToken":"app-${i}"}`);
    } else {
      out.push(`{"state":{"reported":{"light":{"brightness":${(i + 3) % 100}},"sensors":{"temperature":${20 + i % 5}.${i % 10}}}}}`);
    }
  }
  return out;
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function stamp(v, ts) {  // metadata of a written value
  if (isObject(v)) { const m = {}; for (const k in v) m[k] = stamp(v[k], ts); return m; }
  if (Array.isArray(v)) return v.map((x) => stamp(x, ts));
  return { timestamp: ts };
}

function merge(target, meta, patch, ts) {  // target and meta mirror each other
  for (const k in patch) {
    const v = patch[k];
    if (v === null) { delete target[k]; delete meta[k]; continue; }
    if (isObject(v) && isObject(target[k])) { merge(target[k], meta[k], v, ts); continue; }
    target[k] = isObject(v) || Array.isArray(v) ? JSON.parse(JSON.stringify(v)) : v;
    meta[k] = stamp(v, ts);
  }
}

function equal(a, b) {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; ++i) if (!equal(a[i], b[i])) return false;
    return true;
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    for (const k of ka) if (!(k in b) || !equal(a[k], b[k])) return false;
    return true;
  }
  return a === b;
}

function delta(desired, reported, meta, outState, outMeta) {
  let any = false;
  for (const k in desired) {
    const d = desired[k];
    if (isObject(d) && Object.keys(d).length === 0) continue;
    const r = reported ? reported[k] : undefined;
    if (isObject(d) && isObject(r)) {
      const s = {}; const m = {};
      if (delta(d, r, meta[k], s, m)) { outState[k] = s; outMeta[k] = m; any = true; }
    } else if (r === undefined || !equal(d, r)) {
      outState[k] = d; outMeta[k] = meta[k]; any = true;
    }
  }
  return any;
}

function run(seconds) {
  const shadow = JSON.parse(JSON.stringify(base));
  const meta = { desired: stamp(shadow.desired, 1700000000), reported: stamp(shadow.reported, 1700000000) };
  let version = 1;
  const reqs = requests();
  let n = 0; let bytes = 0; let now = 1700000000;
  const cpu0 = process.cpuUsage();
  const start = process.hrtime.bigint();
  const end = start + BigInt(Math.round(seconds * 1e9));
  for (;;) {
    for (let j = 0; j < 1000; ++j, ++n) {
      const req = JSON.parse(reqs[n & 255]);
      ++now;
      const state = req.state;
      if (!isObject(state)) throw new Error('bad request');
      for (const section of ['desired', 'reported']) {
        if (state[section] === undefined) continue;
        if (state[section] === null) { delete shadow[section]; delete meta[section]; continue; }
        if (!shadow[section]) { shadow[section] = {}; meta[section] = {}; }
        merge(shadow[section], meta[section], state[section], now);
      }
      ++version;
      const accepted = { state, metadata: stamp(state, now), version, timestamp: now };
      if (req.clientToken !== undefined) accepted.clientToken = req.clientToken;
      let out = JSON.stringify(accepted);
      const ds = {}; const dm = {};
      if (shadow.desired && delta(shadow.desired, shadow.reported, meta.desired, ds, dm)) {
        const msg = { version, timestamp: now, state: ds, metadata: dm };
        if (req.clientToken !== undefined) msg.clientToken = req.clientToken;
        out += JSON.stringify(msg);
      }
      bytes += out.length;
    }
    if (process.hrtime.bigint() >= end) break;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { updates: n, seconds: secs, cpu_seconds: (cpu.user + cpu.system) / 1e6,
           out_bytes_per_update: bytes / n };
}

const seconds = Number(process.argv[2] || 3);
run(0.5);  // warm up the JIT
const r = run(seconds);
// Per CPU second (the machine may be shared), and per wall second.
console.log(JSON.stringify({ peer: `node ${process.version} (JS implementation)`,
  updates_per_cpu_second: Math.round(r.updates / r.cpu_seconds),
  updates_per_second: Math.round(r.updates / r.seconds),
  out_bytes_per_update: Math.round(r.out_bytes_per_update) }));
