#!/usr/bin/env node
// Decodes every packet of iotblocks_vectors.json (bytes encoded by iotblocks)
// with npm mqtt-packet and compares what it reads with the JSON description.
// Exit status 0 when all agree.
//
//   NODE_PATH=benchmarks/peers/node_modules node tests/data/mqtt/check_iotblocks_vectors.js
'use strict'
const fs = require('fs')
const path = require('path')
const assert = require('assert')
const { loadMqttPacket, toIotblocks, parseOne } = require('./convert')

const mp = loadMqttPacket()
const versions = { 3.1: 3, '3.1.1': 4, 5: 5 }

// mqtt-packet groups user properties by name, so compare property lists as multisets.
function normalise (o) {
  if (Array.isArray(o)) return o.map(normalise)
  if (o && typeof o === 'object') {
    const r = {}
    for (const k of Object.keys(o)) {
      r[k] = k === 'properties' ? o[k].map(p => JSON.stringify(p)).sort() : normalise(o[k])
    }
    return r
  }
  return o
}

const file = path.join(__dirname, 'iotblocks_vectors.json')
const { vectors } = JSON.parse(fs.readFileSync(file, 'utf8'))
let failed = 0
for (const v of vectors) {
  const version = versions[v.protocol]
  const bytes = Buffer.from(v.hex, 'hex')
  try {
    const got = toIotblocks(parseOne(mp, bytes, version), version, bytes)
    assert.deepStrictEqual(normalise(got), normalise(v.json))
    console.log(`ok   ${v.name}`)
  } catch (e) {
    failed++
    console.log(`FAIL ${v.name}: ${e.message.split('\n').slice(0, 12).join('\n     ')}`)
  }
}
console.log(`${vectors.length - failed}/${vectors.length} iotblocks-encoded packets read back by mqtt-packet ${mp.packageVersion}`)
process.exit(failed ? 1 : 0)
