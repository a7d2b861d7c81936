// The anomaly page (/console/anomaly.html): subscribes over MQTT on WebSocket to the
// topic the rules engine's `anomaly` action republishes to (anom/pred unless
// ?topic=...) and plots, per series key and field, the values with the detector's
// lower and upper bounds; flagged points are ringed in red and listed below.
//
// A message is the rule's SELECT output plus
//   "anomaly": {"<field>": {"value", "mean", "std", "lower", "upper", "p", "score", "raw",
//                           "anomaly", "warmingUp"}}
// The series key is the payload's ?key= field (default: station, then device,
// then the topic). No admin token is needed: the page only reads config.json.
import {consoleConfig} from './api.js';
import {MqttClient, topicMatches} from './mqtt.js';
import {BandChart, formatValue} from './anomaly_chart.js';

const params = new URLSearchParams(location.search);
const topic = params.get('topic') || 'anom/pred';
const keyField = params.get('key');
const capacity = Math.max(10, Math.min(2000, Number(params.get('points')) || 240));
const maxSeries = Math.max(1, Math.min(500, Number(params.get('series')) || 50));
const MAX_FLAGGED = 200;
const MAX_TEXT = 64;  // longest key, field or time shown (a publisher chooses them)

const main = document.getElementById('anomaly');
const series = new Map();  // "key/field" -> {chart, latest}
const totals = {messages: 0, ignored: 0, anomalies: 0, overflow: 0};

const clip = (t) => (t.length > MAX_TEXT ? t.slice(0, MAX_TEXT) + '…' : t);

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  for (const c of children) e.append(c);
  return e;
}

function setState(state, detail) {
  const pill = document.getElementById('mqtt-state');
  pill.textContent = 'MQTT ' + state;
  pill.title = detail || '';
  pill.className = 'pill ' + (state === 'connected' ? 'ok' : state === 'connecting' ? '' : 'bad');
  main.dataset.state = state;
}

function showError(message) {
  const p = document.getElementById('error');
  p.textContent = message;
  p.classList.remove('hidden');
}

function summary() {
  main.dataset.messages = totals.messages;
  main.dataset.anomalies = totals.anomalies;
  document.getElementById('summary').textContent =
    `${totals.messages} messages, ${series.size} series, ${totals.anomalies} flagged` +
    (totals.ignored ? `, ${totals.ignored} ignored (not JSON or no "anomaly" object)` : '') +
    (totals.overflow ? `, ${totals.overflow} points of series beyond the first ${maxSeries} not drawn` : '');
}

function seriesKey(doc, msgTopic) {
  for (const k of keyField ? [keyField] : ['station', 'device', 'deviceId', 'thing']) {
    const v = doc[k];
    if (typeof v === 'string' || typeof v === 'number') return clip(String(v));
  }
  return clip(msgTopic);
}

function seriesFor(id, key, field) {
  let s = series.get(id);
  if (s) return s;
  if (series.size >= maxSeries) return null;
  const chart = new BandChart({capacity});
  const latest = el('p', {class: 'muted', 'data-role': 'latest'});
  const card = el('section', {class: 'card', 'data-series': id},
    el('h2', {}, key + ' · ' + field), latest, chart.node);
  // Keep the cards in key order so stations do not jump around.
  const list = document.getElementById('series');
  const after = [...list.children].find((c) => c.dataset.series > id);
  list.insertBefore(card, after || null);
  document.getElementById('waiting').classList.add('hidden');
  s = {chart, latest};
  series.set(id, s);
  return s;
}

function flag(id, time, r) {
  const body = document.getElementById('flagged');
  const row = el('tr', {'data-anomaly': id},
    el('td', {}, time), el('td', {}, id), el('td', {}, formatValue(r.value)),
    el('td', {}, `${formatValue(r.lower)} .. ${formatValue(r.upper)}`), el('td', {}, formatValue(r.score)));
  body.prepend(row);
  while (body.children.length > MAX_FLAGGED) body.lastChild.remove();
  document.getElementById('none-flagged').classList.add('hidden');
}

function receive(msg) {
  if (!topicMatches(topic, msg.topic)) return;
  totals.messages++;
  let doc;
  try {
    doc = JSON.parse(new TextDecoder().decode(msg.payload));
  } catch {
    doc = null;
  }
  const scores = doc && typeof doc === 'object' ? doc.anomaly : null;
  if (!scores || typeof scores !== 'object') {
    totals.ignored++;
    summary();
    return;
  }
  const key = seriesKey(doc, msg.topic);
  const time = typeof doc.time === 'string' ? clip(doc.time) : new Date(msg.time).toISOString().slice(11, 23);
  for (const [name, r] of Object.entries(scores)) {
    if (!r || typeof r !== 'object') continue;
    const field = clip(name);
    const value = typeof r.value === 'number' ? r.value : doc[name];
    const id = key + '/' + field;
    const s = seriesFor(id, key, field);
    if (!s) {
      totals.overflow++;
      continue;
    }
    s.chart.push({value, lower: r.lower, upper: r.upper, score: r.score, anomaly: r.anomaly === true,
      warmingUp: r.warmingUp === true, label: time});
    s.latest.textContent = `${time}: ${formatValue(value)}, bounds ${formatValue(r.lower)} .. ` +
      `${formatValue(r.upper)}, mean ${formatValue(r.mean)}, score ${formatValue(r.score)}` +
      (r.warmingUp ? ' (warming up)' : '') + (r.anomaly ? ' — ANOMALY' : '');
    if (r.anomaly === true) {
      totals.anomalies++;
      flag(id, time, {value, lower: r.lower, upper: r.upper, score: r.score});
    }
  }
  summary();
}

/** The WebSocket URL of the gateway's ws (or wss) listener from config.json. */
function websocketUrl(cfg) {
  const secure = location.protocol === 'https:';
  const ls = cfg.listeners || [];
  const l = ls.find((x) => x.type === (secure ? 'wss' : 'ws')) || ls.find((x) => x.type === 'ws' || x.type === 'wss');
  if (!l) throw new Error('the gateway has no WebSocket MQTT listener (add one of type "ws" to its config)');
  let host = l.address;
  if (!host || host === '0.0.0.0' || host === '::' || host === '[::]') host = location.hostname;
  if (host.includes(':') && !host.startsWith('[')) host = '[' + host + ']';
  return `${l.type}://${host}:${l.port}${l.path || '/mqtt'}`;
}

/** Connects and subscribes; after a lost connection, tries again (1 s doubling to 10 s). */
async function connect(delay = 1000) {
  let client = null;
  try {
    const url = websocketUrl(await consoleConfig());
    const id = 'iotblocks-anomaly-' + Math.random().toString(36).slice(2, 10);
    client = new MqttClient(url, {clientId: id, keepAlive: 30});
    client.onMessage(receive);
    await client.connect();
    const granted = await client.subscribe(topic, 0);
    if (granted[0] >= 0x80) {
      setState('refused', `the gateway refused the subscription to ${topic}`);
      showError(`The gateway refused the subscription to ${topic} (policy?).`);
      return;  // retrying would be refused again
    }
    setState('connected', url);
    document.getElementById('error').classList.add('hidden');
    main.dataset.subscribed = 'true';
    main.dataset.connections = Number(main.dataset.connections || 0) + 1;
    client.onState((s, detail) => {
      if (s === 'connected' || main.dataset.state !== 'connected') return;
      main.dataset.subscribed = 'false';
      setState('disconnected', detail);
      showError(`MQTT connection lost${detail ? ' (' + detail + ')' : ''}; reconnecting…`);
      setTimeout(() => connect(1000), 1000);
    });
  } catch (e) {
    if (client) client.disconnect();
    setState('disconnected', e.message);
    showError(`${e.message}; retrying in ${delay / 1000} s`);
    setTimeout(() => connect(Math.min(delay * 2, 10000)), delay);
  }
}

document.getElementById('topic').textContent = topic;
summary();
setState('connecting');
connect();
