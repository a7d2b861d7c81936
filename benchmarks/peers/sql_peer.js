// Peer for benchmarks/sql_benchmark: the same three rules written by hand in
// Node.js (JSON.parse, the condition, JSON.stringify), on the same messages.
// Prints one JSON line per case with evaluations per second.
'use strict';
const match = '{"device":"greenhouse_lux_probe_1","lux":36250,"sensors":{"temp":21.5,"hum":48},' +
  '"location":{"site":"north","row":12},"battery":3.7,"ts":1700000000123}';
const nomatch = match.replace('36250', '20000');

const cases = {
  WhereMatchSelectStar: (m) => { const o = JSON.parse(m); return o.lux > 35000 ? JSON.stringify(o) : undefined; },
  WhereNoMatch: (m) => { const o = JSON.parse(m); return o.lux > 35000 ? JSON.stringify(o) : undefined; },
  Projection5Fields2Functions: (m) => {
    const o = JSON.parse(m);
    return JSON.stringify({temp: o.sensors.temp, hum: o.sensors.hum, site: o.location.site,
      row: o.location.row, battery: o.battery, dev: o.device.toUpperCase(), t: Math.round(o.sensors.temp)});
  },
  Case: (m) => { const o = JSON.parse(m); return JSON.stringify({shade: o.lux > 35000 ? 'close' : 'open'}); },
};
const input = {WhereMatchSelectStar: match, WhereNoMatch: nomatch, Projection5Fields2Functions: match, Case: match};

for (const [name, fn] of Object.entries(cases)) {
  const msg = input[name];
  let sink = 0;
  for (let i = 0; i < 200000; ++i) sink += (fn(msg) || '').length;  // warm-up
  const n = 2000000;
  // CPU time, as Google Benchmark reports it (the machine is shared).
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; ++i) sink += (fn(msg) || '').length;
  const c = process.cpuUsage(c0);
  const s = (c.user + c.system) / 1e6;
  console.log(JSON.stringify({name, evals_per_s: n / s, sink}));
}
