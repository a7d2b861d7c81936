// A small MQTT 3.1.1 client over WebSocket (subprotocol "mqtt"): CONNECT/CONNACK,
// SUBSCRIBE/SUBACK, UNSUBSCRIBE/UNSUBACK, PUBLISH QoS 0/1 both ways (QoS 2 in is
// answered PUBREC/PUBCOMP), PINGREQ/PINGRESP. Packets may span or share WebSocket
// frames; the remaining length is the MQTT varint (at most 4 bytes).

const CONNECT = 1, CONNACK = 2, PUBLISH = 3, PUBACK = 4, PUBREC = 5, PUBREL = 6, PUBCOMP = 7;
const SUBSCRIBE = 8, SUBACK = 9, UNSUBSCRIBE = 10, UNSUBACK = 11, PINGREQ = 12, PINGRESP = 13;
const DISCONNECT = 14;
const MAX_PACKET = 4 * 1024 * 1024;  // refuse larger incoming packets
const ACK_TIMEOUT_MS = 10000;

const CONNACK_REASONS = ['accepted', 'unacceptable protocol version', 'identifier rejected',
  'server unavailable', 'bad user name or password', 'not authorized'];

const utf8 = new TextEncoder();

/** The MQTT variable-length integer of `n` (0 .. 268435455). */
export function encodeLength(n) {
  if (n < 0 || n > 268435455) throw new RangeError('remaining length out of range');
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

/** Decodes a varint at `offset`: {value, bytes} or null when more bytes are needed. */
export function decodeLength(buf, offset) {
  let value = 0, mult = 1;
  for (let i = 0; i < 4; i++) {
    if (offset + i >= buf.length) return null;
    const b = buf[offset + i];
    value += (b & 0x7f) * mult;
    if ((b & 0x80) === 0) return {value, bytes: i + 1};
    mult *= 128;
  }
  throw new Error('malformed remaining length (more than 4 bytes)');
}

function str(s) {
  const b = utf8.encode(s);
  if (b.length > 65535) throw new RangeError('string longer than 65535 bytes');
  return [b.length >> 8, b.length & 0xff, ...b];
}

function packet(first, body) {
  return new Uint8Array([first, ...encodeLength(body.length), ...body]);
}

export function encodeConnect({clientId, keepAlive = 60, clean = true, username, password}) {
  let flags = clean ? 0x02 : 0;
  const payload = str(clientId);
  if (username !== undefined && username !== '') {
    flags |= 0x80;
    payload.push(...str(username));
    if (password !== undefined && password !== '') {
      flags |= 0x40;
      payload.push(...str(password));
    }
  }
  return packet(CONNECT << 4, [...str('MQTT'), 4, flags, keepAlive >> 8, keepAlive & 0xff, ...payload]);
}

export function encodePublish({topic, payload, qos = 0, retain = false, dup = false, id = 0}) {
  const body = [...str(topic)];
  if (qos > 0) body.push(id >> 8, id & 0xff);
  const bytes = typeof payload === 'string' ? utf8.encode(payload) : payload;
  const head = (PUBLISH << 4) | (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
  const out = new Uint8Array(1 + encodeLength(body.length + bytes.length).length + body.length + bytes.length);
  const len = encodeLength(body.length + bytes.length);
  out[0] = head;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  out.set(bytes, 1 + len.length + body.length);
  return out;
}

function ack(type, id, flags = 0) {
  return new Uint8Array([(type << 4) | flags, 2, id >> 8, id & 0xff]);
}

/** Topic filter matching (MQTT 4.7), with the '$' rule for wildcards at level 0. */
export function topicMatches(filter, topic) {
  const f = filter.split('/'), t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export class MqttClient {
  /**
   * @param url ws:// or wss:// URL
   * @param options {clientId, keepAlive (s), clean, username, password}
   */
  constructor(url, options = {}) {
    this.url = url;
    this.options = Object.assign({keepAlive: 30, clean: true}, options);
    this.nextId = 1;
    this.pending = new Map();  // packet id -> {resolve, reject, timer}
    this.listeners = new Set();  // fn(message)
    this.stateListeners = new Set();
    this.state = 'disconnected';
    this.buffer = new Uint8Array(0);
  }

  onMessage(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }
  onState(fn) { this.stateListeners.add(fn); return () => this.stateListeners.delete(fn); }

  setState(s, detail) {
    this.state = s;
    for (const fn of this.stateListeners) fn(s, detail);
  }

  /** Resolves once CONNACK accepted the session. */
  connect() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(this.url, ['mqtt']);
      ws.binaryType = 'arraybuffer';
      this.ws = ws;
      this.setState('connecting');
      this.connectWaiter = {resolve, reject};
      ws.onopen = () => ws.send(encodeConnect(this.options));
      ws.onmessage = (ev) => this.receive(new Uint8Array(ev.data));
      ws.onerror = () => {};
      ws.onclose = (ev) => {
        clearInterval(this.pingTimer);
        if (this.connectWaiter) {
          this.connectWaiter.reject(new Error(`WebSocket closed before CONNACK (code ${ev.code})`));
          this.connectWaiter = null;
        }
        for (const [, p] of this.pending) { clearTimeout(p.timer); p.reject(new Error('connection closed')); }
        this.pending.clear();
        this.setState('disconnected', `closed (code ${ev.code})`);
      };
    });
  }

  disconnect() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(new Uint8Array([DISCONNECT << 4, 0]));
      this.ws.close();
    }
  }

  send(bytes) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) throw new Error('not connected');
    this.ws.send(bytes);
  }

  allocateId() {
    for (let i = 0; i < 65535; i++) {
      const id = this.nextId;
      this.nextId = this.nextId === 65535 ? 1 : this.nextId + 1;
      if (!this.pending.has(id)) return id;
    }
    throw new Error('no free packet identifier');
  }

  waitAck(id, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(what + ': no acknowledgement within ' + ACK_TIMEOUT_MS / 1000 + ' s'));
      }, ACK_TIMEOUT_MS);
      this.pending.set(id, {resolve, reject, timer});
    });
  }

  /** Resolves with the granted QoS per filter (0x80 = refused). */
  subscribe(filters, qos = 0) {
    const list = Array.isArray(filters) ? filters : [filters];
    const id = this.allocateId();
    const body = [id >> 8, id & 0xff];
    for (const f of list) body.push(...str(f), qos);
    const done = this.waitAck(id, 'SUBSCRIBE');
    this.send(packet((SUBSCRIBE << 4) | 2, body));
    return done;
  }

  unsubscribe(filters) {
    const list = Array.isArray(filters) ? filters : [filters];
    const id = this.allocateId();
    const body = [id >> 8, id & 0xff];
    for (const f of list) body.push(...str(f));
    const done = this.waitAck(id, 'UNSUBSCRIBE');
    this.send(packet((UNSUBSCRIBE << 4) | 2, body));
    return done;
  }

  /** QoS 0 resolves once written; QoS 1 once PUBACK arrived. */
  publish(topic, payload, {qos = 0, retain = false} = {}) {
    if (qos > 1) return Promise.reject(new Error('this client publishes QoS 0 and 1'));
    const id = qos > 0 ? this.allocateId() : 0;
    const done = qos > 0 ? this.waitAck(id, 'PUBLISH') : Promise.resolve();
    this.send(encodePublish({topic, payload, qos, retain, id}));
    return done;
  }

  receive(chunk) {
    const merged = new Uint8Array(this.buffer.length + chunk.length);
    merged.set(this.buffer);
    merged.set(chunk, this.buffer.length);
    let pos = 0;
    try {
      while (merged.length - pos >= 2) {
        const len = decodeLength(merged, pos + 1);
        if (!len) break;
        if (len.value > MAX_PACKET) throw new Error('packet larger than ' + MAX_PACKET + ' bytes');
        const start = pos + 1 + len.bytes;
        if (merged.length < start + len.value) break;
        this.handle(merged[pos], merged.subarray(start, start + len.value));
        pos = start + len.value;
      }
    } catch (e) {
      this.setState('error', e.message);
      this.ws.close();
      return;
    }
    this.buffer = merged.slice(pos);
  }

  handle(first, body) {
    const type = first >> 4;
    const id = body.length >= 2 ? (body[0] << 8) | body[1] : 0;
    switch (type) {
      case CONNACK: {
        const rc = body[1];
        const w = this.connectWaiter;
        this.connectWaiter = null;
        if (rc === 0) {
          this.setState('connected');
          const ka = this.options.keepAlive;
          if (ka > 0) {
            this.pingTimer = setInterval(() => {
              try { this.send(new Uint8Array([PINGREQ << 4, 0])); } catch { /* closing */ }
            }, ka * 750);
          }
          if (w) w.resolve();
        } else {
          const reason = CONNACK_REASONS[rc] || 'refused (' + rc + ')';
          if (w) w.reject(new Error('CONNACK: ' + reason));
          this.ws.close();
        }
        break;
      }
      case PUBLISH: {
        const qos = (first >> 1) & 3;
        const tlen = (body[0] << 8) | body[1];
        const topic = new TextDecoder().decode(body.subarray(2, 2 + tlen));
        let off = 2 + tlen;
        let pid = 0;
        if (qos > 0) { pid = (body[off] << 8) | body[off + 1]; off += 2; }
        const msg = {topic, payload: body.slice(off), qos, retain: (first & 1) === 1,
          dup: (first & 8) === 8, time: Date.now()};
        if (qos === 1) this.send(ack(PUBACK, pid));
        if (qos === 2) this.send(ack(PUBREC, pid));
        for (const fn of this.listeners) fn(msg);
        break;
      }
      case PUBREL:
        this.send(ack(PUBCOMP, id));
        break;
      case PUBACK:
      case UNSUBACK: {
        const p = this.pending.get(id);
        if (p) { clearTimeout(p.timer); this.pending.delete(id); p.resolve(); }
        break;
      }
      case SUBACK: {
        const p = this.pending.get(id);
        if (p) { clearTimeout(p.timer); this.pending.delete(id); p.resolve(Array.from(body.subarray(2))); }
        break;
      }
      case PINGRESP:
        break;
      default:
        throw new Error('unexpected packet type ' + type);
    }
  }
}

/** Text of a payload: pretty JSON, UTF-8 text, or hex when not UTF-8. */
export function describePayload(bytes) {
  let text;
  try {
    text = new TextDecoder('utf-8', {fatal: true}).decode(bytes);
  } catch {
    return {kind: 'hex', text: Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ')};
  }
  try {
    return {kind: 'json', text: JSON.stringify(JSON.parse(text), null, 2)};
  } catch {
    return {kind: 'text', text};
  }
}
