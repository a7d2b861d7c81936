// qlobber on the workload files of topic_benchmark --write-workload: the same
// steps as `topic_benchmark --run` (insert all, one checksum pass, 3 timed
// lookup passes, remove all) and the same JSON line. Rates are per CPU second
// of the process (GC threads included), plus the wall-clock lookup rate.
//   node topic_peer.js SUBS LOOKUPS
'use strict';
const fs = require('fs');
const { Qlobber } = require('qlobber');

const [subsPath, lookupsPath] = process.argv.slice(2);
const lines = (p) => fs.readFileSync(p, 'utf8').split('\n').filter((l) => l.length > 0);
const filters = lines(subsPath);
const lookups = lines(lookupsPath);

global.gc && global.gc();
const heap0 = process.memoryUsage().heapUsed;
const matcher = new Qlobber({ separator: '/', wildcard_one: '+', wildcard_some: '#' });
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
let c0 = cpu();
for (let i = 0; i < filters.length; ++i) matcher.add(filters[i], i);
const insertS = cpu() - c0;
global.gc && global.gc();
const heap = process.memoryUsage().heapUsed - heap0;

let total = 0;
for (const t of lookups) total += matcher.match(t).length;
const passes = 3;
let sink = 0;
const t0 = process.hrtime.bigint();
c0 = cpu();
for (let p = 0; p < passes; ++p) {
  for (let i = 0; i < lookups.length; ++i) sink += matcher.match(lookups[i]).length;
}
const lookupS = cpu() - c0;
const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
c0 = cpu();
for (let i = 0; i < filters.length; ++i) matcher.remove(filters[i], i);
const removeS = cpu() - c0;
const n = filters.length;
const count = lookups.length * passes;
console.log(JSON.stringify({
  impl: 'qlobber', threads: 1, subscriptions: n, lookups: lookups.length, matches: total,
  inserts_per_s: Math.round(n / insertS), lookups_per_s: Math.round(count / lookupS),
  ns_per_lookup: Number((lookupS * 1e9 / count).toFixed(1)),
  removes_per_s: Math.round(n / removeS), bytes_per_sub: Number((heap / n).toFixed(1)),
  wall_lookups_per_s: Math.round(count / wallS), sink: sink > 0,
}));
