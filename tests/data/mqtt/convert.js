// Shared by generate.js and check_iotblocks_vectors.js: loads mqtt-packet and
// converts its parsed packet objects into iotblocks' JSON packet shape
// (docs/mqtt.md), so both sides can be compared field by field.
'use strict'
const path = require('path')

function loadMqttPacket () {
  const candidates = [
    process.env.MQTT_PACKET,
    path.join(__dirname, '../../../benchmarks/peers/node_modules/mqtt-packet'),
    'mqtt-packet'
  ].filter(Boolean)
  for (const c of candidates) {
    try {
      const mp = require(c)
      mp.packageVersion = require(c + '/package.json').version
      return mp
    } catch (e) { /* next */ }
  }
  throw new Error('mqtt-packet not found; run npm ci in benchmarks/peers')
}

const names = {
  payloadFormatIndicator: 'payload_format_indicator',
  messageExpiryInterval: 'message_expiry_interval',
  contentType: 'content_type',
  responseTopic: 'response_topic',
  correlationData: 'correlation_data',
  subscriptionIdentifier: 'subscription_identifier',
  sessionExpiryInterval: 'session_expiry_interval',
  assignedClientIdentifier: 'assigned_client_identifier',
  serverKeepAlive: 'server_keep_alive',
  authenticationMethod: 'authentication_method',
  authenticationData: 'authentication_data',
  requestProblemInformation: 'request_problem_information',
  willDelayInterval: 'will_delay_interval',
  requestResponseInformation: 'request_response_information',
  responseInformation: 'response_information',
  serverReference: 'server_reference',
  reasonString: 'reason_string',
  receiveMaximum: 'receive_maximum',
  topicAliasMaximum: 'topic_alias_maximum',
  topicAlias: 'topic_alias',
  maximumQoS: 'maximum_qos',
  retainAvailable: 'retain_available',
  userProperties: 'user_property',
  maximumPacketSize: 'maximum_packet_size',
  wildcardSubscriptionAvailable: 'wildcard_subscription_available',
  subscriptionIdentifiersAvailable: 'subscription_identifiers_available',
  sharedSubscriptionAvailable: 'shared_subscription_available'
}
const binaryProps = new Set(['correlationData', 'authenticationData'])

// iotblocks writes binary fields as text when they are UTF-8 without U+0000.
function isText (buf) {
  try {
    const s = new TextDecoder('utf-8', { fatal: true }).decode(buf)
    return !s.includes('\u0000')
  } catch (e) {
    return false
  }
}

function setBinary (obj, key, buf) {
  buf = Buffer.from(buf || [])
  if (isText(buf)) obj[key] = buf.toString('utf8')
  else obj[key + '_base64'] = buf.toString('base64')
}

function propertyEntry (key, value) {
  const e = {}
  if (binaryProps.has(key)) setBinary(e, names[key], value)
  else if (typeof value === 'boolean') e[names[key]] = value ? 1 : 0
  else e[names[key]] = value
  return e
}

// mqtt-packet keeps properties in an object in first-seen order; user
// properties are grouped by name. Expand back into iotblocks' ordered list.
function convertProperties (props) {
  const out = []
  if (!props) return out
  for (const key of Object.keys(props)) {
    const value = props[key]
    if (!(key in names)) throw new Error('unknown property ' + key)
    if (key === 'userProperties') {
      for (const name of Object.keys(value)) {
        const vs = Array.isArray(value[name]) ? value[name] : [value[name]]
        for (const v of vs) out.push({ user_property: [name, String(v)] })
      }
    } else if (Array.isArray(value)) {
      for (const v of value) out.push(propertyEntry(key, v))
    } else {
      out.push(propertyEntry(key, value))
    }
  }
  return out
}

function addProperties (obj, props, v5) {
  if (!v5) return
  const list = convertProperties(props)
  if (list.length) obj.properties = list
}

// The variable byte integer after the first byte of `bytes`.
function remainingLength (bytes) {
  let v = 0; let shift = 0; let i = 1
  for (;;) {
    const b = bytes[i++]
    v += (b & 0x7f) * Math.pow(2, shift)
    if (!(b & 0x80)) return v
    shift += 7
  }
}

// Shape of the optional tail of acks, DISCONNECT and AUTH, from the length.
function form (rl, base) {
  if (rl <= base) return undefined
  if (rl === base + 1) return 'reason_code'
  return 'properties'
}

const versionNames = { 3: '3.1', 4: '3.1.1', 5: '5' }

function toIotblocks (p, version, bytes) {
  const v5 = version === 5
  const o = { type: p.cmd }
  const rl = remainingLength(bytes)
  switch (p.cmd) {
    case 'connect':
      o.protocol = versionNames[p.protocolVersion]
      o.clean_start = !!p.clean
      o.keep_alive = p.keepalive
      o.client_id = p.clientId
      addProperties(o, p.properties, p.protocolVersion === 5)
      if (p.will) {
        o.will = { topic: p.will.topic, qos: p.will.qos, retain: !!p.will.retain }
        addProperties(o.will, p.will.properties, p.protocolVersion === 5)
        setBinary(o.will, 'payload', p.will.payload)
      }
      if (p.username !== undefined) o.username = p.username
      if (p.password !== undefined) setBinary(o, 'password', p.password)
      break
    case 'connack':
      o.session_present = !!p.sessionPresent
      o.reason_code = v5 ? p.reasonCode : p.returnCode
      addProperties(o, p.properties, v5)
      break
    case 'publish':
      o.topic = p.topic
      o.qos = p.qos
      o.retain = !!p.retain
      o.dup = !!p.dup
      if (p.qos > 0) o.packet_id = p.messageId
      addProperties(o, p.properties, v5)
      setBinary(o, 'payload', p.payload)
      break
    case 'puback': case 'pubrec': case 'pubrel': case 'pubcomp':
      o.packet_id = p.messageId
      if (v5) {
        o.reason_code = p.reasonCode || 0
        const f = form(rl, 2)
        if (f) o.form = f
        addProperties(o, p.properties, v5)
      }
      break
    case 'subscribe':
      o.packet_id = p.messageId
      addProperties(o, p.properties, v5)
      o.subscriptions = p.subscriptions.map(s => {
        const r = { filter: s.topic, qos: s.qos }
        if (v5) {
          r.no_local = !!s.nl
          r.retain_as_published = !!s.rap
          r.retain_handling = s.rh || 0
        }
        return r
      })
      break
    case 'suback':
      o.packet_id = p.messageId
      addProperties(o, p.properties, v5)
      o.reason_codes = p.granted
      break
    case 'unsubscribe':
      o.packet_id = p.messageId
      addProperties(o, p.properties, v5)
      o.filters = p.unsubscriptions
      break
    case 'unsuback':
      o.packet_id = p.messageId
      if (v5) {
        addProperties(o, p.properties, v5)
        o.reason_codes = p.granted
      }
      break
    case 'pingreq': case 'pingresp':
      break
    case 'disconnect': case 'auth':
      if (v5) {
        o.reason_code = p.reasonCode || 0
        const f = form(rl, 0)
        if (f) o.form = f
        addProperties(o, p.properties, v5)
      }
      break
    default:
      throw new Error('unexpected packet ' + p.cmd)
  }
  return o
}

// Parses exactly one packet with mqtt-packet; throws on errors or leftovers.
function parseOne (mp, bytes, version) {
  const parser = mp.parser({ protocolVersion: version })
  const packets = []
  let error = null
  parser.on('packet', p => packets.push(p))
  parser.on('error', e => { error = e })
  const left = parser.parse(Buffer.from(bytes))
  if (error) throw error
  if (packets.length !== 1 || left !== 0) {
    throw new Error(`expected one packet, got ${packets.length} with ${left} bytes left`)
  }
  return packets[0]
}

module.exports = { loadMqttPacket, toIotblocks, parseOne, versionNames }
