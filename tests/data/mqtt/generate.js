#!/usr/bin/env node
// Generates tests/data/mqtt/mqtt_packet_vectors.json with the independent npm
// codec mqtt-packet: every packet type of MQTT 3.1.1 and 5.0 (and a 3.1
// CONNECT), as bytes written by mqtt-packet's generator, described by what
// mqtt-packet's own parser reads back, in iotblocks' JSON shape.
// The unit tests decode each vector with iotblocks, compare the packet with the
// description and re-encode it byte for byte; they do not need Node.
//
//   NODE_PATH=benchmarks/peers/node_modules node tests/data/mqtt/generate.js
'use strict'
const fs = require('fs')
const path = require('path')
const { loadMqttPacket, toIotblocks, parseOne, versionNames } = require('./convert')

const mp = loadMqttPacket()
const buf = s => Buffer.from(s)
const greenhouse = buf(JSON.stringify({
  device: 'greenhouse_lux_probe_1', lux: 36250, temperature: 21.25, humidity: 48, ts: 1700000000123
}))
const binary = Buffer.from([0x00, 0x01, 0xfe, 0xff, 0x80, 0x7f])

// role: the side that decodes (a server decodes what clients send).
const cases = []
const add = (name, version, role, packet) => cases.push({ name, version, role, packet })

for (const v of [4, 5]) {
  const tag = v === 5 ? 'v5' : 'v311'
  add(`${tag}_connect_minimal`, v, 'server',
    { cmd: 'connect', protocolVersion: v, clientId: 'greenhouse_lux_probe_1', keepalive: 60, clean: true })
  add(`${tag}_connect_empty_client_id`, v, 'server',
    { cmd: 'connect', protocolVersion: v, clientId: '', keepalive: 0, clean: true })
  add(`${tag}_connect_full`, v, 'server', {
    cmd: 'connect',
    protocolVersion: v,
    clientId: 'probe-\u00e9\u20ac',
    keepalive: 65535,
    clean: false,
    username: 'greenhouse',
    password: binary,
    will: {
      topic: 'greenhouse/probe_1/status',
      payload: buf('offline'),
      qos: 1,
      retain: true,
      properties: v === 5
        ? {
            willDelayInterval: 30,
            payloadFormatIndicator: true,
            messageExpiryInterval: 3600,
            contentType: 'text/plain',
            responseTopic: 'greenhouse/replies',
            correlationData: buf('corr-1'),
            userProperties: { site: 'north', rack: ['1', '2'] }
          }
        : undefined
    },
    properties: v === 5
      ? {
          sessionExpiryInterval: 7200,
          receiveMaximum: 20,
          maximumPacketSize: 131072,
          topicAliasMaximum: 10,
          requestResponseInformation: true,
          requestProblemInformation: false,
          userProperties: { model: 'lux-2000' },
          authenticationMethod: 'SCRAM-SHA-256',
          authenticationData: binary
        }
      : undefined
  })
  add(`${tag}_connect_will_qos2_no_retain`, v, 'server', {
    cmd: 'connect', protocolVersion: v, clientId: 'c2', keepalive: 10, clean: true,
    will: { topic: 'w', payload: Buffer.alloc(0), qos: 2, retain: false }
  })
  add(`${tag}_connack_accepted`, v, 'client',
    v === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: 0 }
      : { cmd: 'connack', sessionPresent: false, returnCode: 0 })
  add(`${tag}_connack_session_present`, v, 'client',
    v === 5 ? { cmd: 'connack', sessionPresent: true, reasonCode: 0 }
      : { cmd: 'connack', sessionPresent: true, returnCode: 0 })
  add(`${tag}_connack_refused`, v, 'client',
    v === 5 ? { cmd: 'connack', sessionPresent: false, reasonCode: 0x87, properties: { reasonString: 'not on the list' } }
      : { cmd: 'connack', sessionPresent: false, returnCode: 5 })
  add(`${tag}_publish_greenhouse_qos1`, v, 'server',
    { cmd: 'publish', topic: '/topic/Greenhouse/LuxSensors/probe_1', qos: 1, messageId: 1, payload: greenhouse })
  add(`${tag}_publish_qos0_empty_payload`, v, 'server',
    { cmd: 'publish', topic: 'a', qos: 0, payload: Buffer.alloc(0) })
  add(`${tag}_publish_qos2_dup_retain_binary`, v, 'client',
    { cmd: 'publish', topic: 'sensors/\u00fc/x', qos: 2, dup: true, retain: true, messageId: 65535, payload: binary })
  add(`${tag}_publish_4k`, v, 'server',
    { cmd: 'publish', topic: 'bulk/upload', qos: 1, messageId: 300, payload: Buffer.alloc(4096, 0x61) })
  for (const cmd of ['puback', 'pubrec', 'pubrel', 'pubcomp']) {
    add(`${tag}_${cmd}`, v, cmd === 'pubrel' ? 'server' : 'client', { cmd, messageId: 42, reasonCode: 0 })
  }
  add(`${tag}_subscribe`, v, 'server', {
    cmd: 'subscribe',
    messageId: 7,
    subscriptions: [
      { topic: '/topic/Greenhouse/LuxSensors/#', qos: 1 },
      { topic: 'greenhouse/+/status', qos: 0 },
      { topic: '$SYS/broker/load', qos: 2 }
    ]
  })
  add(`${tag}_suback`, v, 'client', { cmd: 'suback', messageId: 7, granted: [1, 0, 2, 128] })
  add(`${tag}_unsubscribe`, v, 'server',
    { cmd: 'unsubscribe', messageId: 8, unsubscriptions: ['greenhouse/+/status', '$SYS/#'] })
  add(`${tag}_pingreq`, v, 'server', { cmd: 'pingreq' })
  add(`${tag}_pingresp`, v, 'client', { cmd: 'pingresp' })
  add(`${tag}_disconnect`, v, 'server', { cmd: 'disconnect', reasonCode: 0 })
}

// MQTT 3.1.1 only
add('v311_unsuback', 4, 'client', { cmd: 'unsuback', messageId: 8 })
add('v31_connect_mqisdp', 3, 'server', {
  cmd: 'connect', protocolId: 'MQIsdp', protocolVersion: 3, clientId: 'legacy-probe', keepalive: 30, clean: true,
  username: 'u', password: buf('p')
})

// MQTT 5.0 only
add('v5_publish_all_properties', 5, 'server', {
  cmd: 'publish',
  topic: 'greenhouse/probe_1/lux',
  qos: 1,
  messageId: 2,
  payload: buf('{"lux":36250}'),
  properties: {
    payloadFormatIndicator: true,
    messageExpiryInterval: 60,
    topicAlias: 3,
    responseTopic: 'greenhouse/probe_1/reply',
    correlationData: binary,
    userProperties: { unit: 'lux', tag: ['a', 'b'] },
    contentType: 'application/json'
  }
})
add('v5_publish_topic_alias_empty_topic', 5, 'server',
  { cmd: 'publish', topic: '', qos: 0, payload: buf('36250'), properties: { topicAlias: 3 } })
add('v5_publish_subscription_identifiers', 5, 'client', {
  cmd: 'publish', topic: 'a/b', qos: 0, payload: buf('x'),
  properties: { subscriptionIdentifier: [1, 268435455] }
})
add('v5_connack_all_properties', 5, 'client', {
  cmd: 'connack',
  sessionPresent: false,
  reasonCode: 0,
  properties: {
    sessionExpiryInterval: 300,
    receiveMaximum: 100,
    maximumQoS: 1,
    retainAvailable: true,
    maximumPacketSize: 262144,
    assignedClientIdentifier: 'auto-7f3a',
    topicAliasMaximum: 16,
    reasonString: 'welcome',
    userProperties: { region: 'eu-west-1' },
    wildcardSubscriptionAvailable: true,
    subscriptionIdentifiersAvailable: true,
    sharedSubscriptionAvailable: false,
    serverKeepAlive: 120,
    responseInformation: 'greenhouse/responses',
    serverReference: 'broker-2.example:8883',
    authenticationMethod: 'SCRAM-SHA-256',
    authenticationData: buf('server-final')
  }
})
for (const [cmd, rc, role] of [['puback', 0x10, 'client'], ['pubrec', 0x97, 'server'],
  ['pubrel', 0x92, 'server'], ['pubcomp', 0x92, 'client']]) {
  add(`v5_${cmd}_reason_code`, 5, role, { cmd, messageId: 9, reasonCode: rc })
  add(`v5_${cmd}_properties`, 5, role,
    { cmd, messageId: 10, reasonCode: rc, properties: { reasonString: 'why', userProperties: { k: 'v' } } })
}
add('v5_subscribe_options', 5, 'server', {
  cmd: 'subscribe',
  messageId: 11,
  properties: { subscriptionIdentifier: 42, userProperties: { app: 'dashboard' } },
  subscriptions: [
    { topic: 'greenhouse/#', qos: 2, nl: true, rap: true, rh: 2 },
    { topic: '$share/dash/greenhouse/+/lux', qos: 1, nl: false, rap: false, rh: 1 },
    { topic: 'alerts', qos: 0, nl: false, rap: true, rh: 0 }
  ]
})
add('v5_suback_reason_codes', 5, 'client', {
  cmd: 'suback', messageId: 11, granted: [0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  properties: { reasonString: 'partial' }
})
add('v5_unsubscribe_properties', 5, 'server',
  { cmd: 'unsubscribe', messageId: 12, unsubscriptions: ['a/#'], properties: { userProperties: { x: 'y' } } })
add('v5_unsuback', 5, 'client', { cmd: 'unsuback', messageId: 12, granted: [0, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91] })
add('v5_unsuback_properties', 5, 'client',
  { cmd: 'unsuback', messageId: 13, granted: [0], properties: { reasonString: 'done' } })
add('v5_disconnect_with_will', 5, 'server',
  { cmd: 'disconnect', reasonCode: 0x04, properties: { sessionExpiryInterval: 0, reasonString: 'bye' } })
add('v5_disconnect_server_shutting_down', 5, 'client',
  { cmd: 'disconnect', reasonCode: 0x8b, properties: { serverReference: 'broker-3', userProperties: { a: 'b' } } })
add('v5_auth_continue', 5, 'server', {
  cmd: 'auth', reasonCode: 0x18,
  properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: binary, reasonString: 'step 2' }
})
add('v5_auth_reauthenticate', 5, 'server',
  { cmd: 'auth', reasonCode: 0x19, properties: { authenticationMethod: 'SCRAM-SHA-256' } })
add('v5_auth_success', 5, 'client',
  { cmd: 'auth', reasonCode: 0x00, properties: { authenticationMethod: 'SCRAM-SHA-256', authenticationData: buf('v=ok') } })

const vectors = cases.map(c => {
  const bytes = mp.generate(c.packet, { protocolVersion: c.version })
  const parsed = parseOne(mp, bytes, c.version)
  return {
    name: c.name,
    protocol: versionNames[c.version],
    role: c.role,
    hex: bytes.toString('hex'),
    json: toIotblocks(parsed, c.version, bytes)
  }
})

const file = path.join(__dirname, 'mqtt_packet_vectors.json')
fs.writeFileSync(file, JSON.stringify({
  generator: `tests/data/mqtt/generate.js with mqtt-packet ${mp.packageVersion}`,
  vectors
}, null, 1) + '\n')
console.log(`wrote ${vectors.length} vectors to ${path.relative(process.cwd(), file)}`)
