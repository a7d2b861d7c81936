// Dashboard: GET /admin/stats each second; gauges and per-second rates from the
// cumulative counters, each with a chart of the last two minutes.
import * as api from '../api.js';
import {Sparkline, formatNumber} from '../chart.js';
import {el} from '../ui.js';

const SERIES = [
  {key: 'connected', title: 'Connections', gauge: true, unit: ''},
  {key: 'messages_in', title: 'Messages in', unit: '/s'},
  {key: 'messages_out', title: 'Messages out', unit: '/s'},
  {key: 'rules_matched', title: 'Rule matches', unit: '/s'},
  {key: 'rules_failed', title: 'Rule action failures', unit: '/s'},
  {key: 'shadow_updates', title: 'Shadow updates', unit: '/s'},
];

export default function dashboard(container) {
  const status = el('p', {class: 'muted', id: 'stats-status'}, 'Waiting for GET /admin/stats…');
  const cards = SERIES.map((s) => {
    const value = el('div', {class: 'stat-value', id: 'stat-' + s.key}, '–');
    const total = el('div', {class: 'stat-total muted'}, '');
    const chart = new Sparkline({unit: s.unit});
    return Object.assign({}, s, {value, total, chart,
      node: el('section', {class: 'card stat', dataset: {key: s.key}}, el('h2', {}, s.title), value, total, chart.node)});
  });
  const extra = el('p', {class: 'muted', id: 'stats-extra'});
  container.append(el('h1', {}, 'Dashboard'), status, el('div', {class: 'grid'}, cards.map((c) => c.node)), extra);

  let previous = null;
  let stopped = false;
  async function poll() {
    try {
      const s = await api.admin('GET', '/stats');
      const now = performance.now();
      status.textContent = 'Live, polled every second.';
      status.className = 'muted';
      for (const c of cards) {
        if (s[c.key] === undefined) {
          c.value.textContent = 'n/a';
          c.total.textContent = 'not reported by this gateway';
          continue;
        }
        const v = Number(s[c.key]);
        if (c.gauge) {
          c.value.textContent = formatNumber(v);
          c.chart.push(v);
        } else {
          c.total.textContent = formatNumber(v) + ' total';
          if (previous) {
            const dt = (now - previous.time) / 1000;
            const rate = dt > 0 ? Math.max(0, (v - Number(previous.stats[c.key] ?? 0)) / dt) : 0;
            c.value.textContent = formatNumber(rate) + ' /s';
            c.chart.push(rate);
          }
        }
      }
      extra.textContent = `connects ${s.connects ?? '–'} · disconnects ${s.disconnects ?? '–'} · ` +
        `dropped ${s.dropped ?? '–'} · retained ${s.retained ?? '–'} · sessions ${s.sessions ?? '–'}`;
      previous = {time: now, stats: s};
    } catch (e) {
      status.textContent = e.status === 404 || e.status === 405
        ? 'This gateway does not answer GET /admin/stats yet.' : 'Stats unavailable: ' + e.message;
      status.className = 'error';
    }
  }
  poll();
  const timer = setInterval(() => { if (!stopped) poll(); }, 1000);
  return () => { stopped = true; clearInterval(timer); };
}
