// npm mqtt-packet on the packets of `mqtt_benchmark --write-packets DIR`: the
// same bytes iotblocks decodes. For each packet: decode rate (one long-lived
// parser fed the packet again and again, like the C++ loop) and encode rate
// (mqtt.generate of the parsed object). Rates are per CPU second, median of 3.
//   node mqtt_peer.js DIR      -> one JSON line per packet
'use strict'
const fs = require('fs')
const path = require('path')
const mqtt = require('mqtt-packet')

const dir = process.argv[2]
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }
const median = xs => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]

// Runs fn(n) with growing n until it takes >= 0.3 s of CPU; returns ops per CPU second.
function rate (fn) {
  let n = 1000
  for (;;) {
    const c0 = cpu()
    fn(n)
    const s = cpu() - c0
    if (s >= 0.3) return n / s
    n *= s > 0.03 ? Math.ceil(0.35 / s) : 10
  }
}

for (const line of fs.readFileSync(path.join(dir, 'manifest.txt'), 'utf8').split('\n')) {
  if (!line) continue
  const [name, level] = line.split(' ')
  const protocolVersion = Number(level)
  const bytes = fs.readFileSync(path.join(dir, name + '.bin'))
  const parser = mqtt.parser({ protocolVersion })
  let count = 0
  let last = null
  parser.on('packet', p => { count++; last = p })
  parser.on('error', e => { throw e })
  parser.parse(bytes)
  if (count !== 1) throw new Error(name + ': mqtt-packet did not parse the packet')
  const same = Buffer.compare(mqtt.generate(last, { protocolVersion }), bytes) === 0
  const decode = []; const encode = []
  for (let r = 0; r < 3; ++r) {
    decode.push(rate(n => { for (let i = 0; i < n; ++i) parser.parse(bytes) }))
    encode.push(rate(n => { for (let i = 0; i < n; ++i) mqtt.generate(last, { protocolVersion }) }))
  }
  console.log(JSON.stringify({
    impl: 'mqtt-packet', name, bytes: bytes.length, decode_per_s: Math.round(median(decode)),
    encode_per_s: Math.round(median(encode)), encode_same_bytes: same
  }))
}
