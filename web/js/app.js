// The console shell: login (admin token in sessionStorage), hash routing between
// views, and one shared MQTT-over-WebSocket connection for the MQTT and event views.
import * as api from './api.js';
import {MqttClient} from './mqtt.js';
import {el, clear, field, toast} from './ui.js';
import dashboard from './views/dashboard.js';
import things from './views/things.js';
import certificates from './views/certificates.js';
import cas from './views/cas.js';
import policies from './views/policies.js';
import rules from './views/rules.js';
import mqttView from './views/mqtt_client.js';
import events from './views/events.js';
import wizard from './views/wizard.js';
import jobs from './views/jobs.js';
import groups from './views/groups.js';

const views = {dashboard, things, groups, certificates, cas, policies, rules, jobs, mqtt: mqttView, events, wizard};

let cleanup = null;
let configPromise = null;

/** The console configuration (listeners), fetched once. */
export function config() {
  if (!configPromise) configPromise = api.consoleConfig().catch((e) => { configPromise = null; throw e; });
  return configPromise;
}

/** host to show in command lines: the listener address unless it is a wildcard. */
export function publicHost(address) {
  if (!address || address === '0.0.0.0' || address === '::' || address === '[::]') return location.hostname;
  return address;
}

let client = null;
let clientPromise = null;

/** The shared MQTT client, connected on first use. */
export async function mqtt() {
  if (client && client.state === 'connected') return client;
  if (clientPromise) return clientPromise;
  clientPromise = (async () => {
    const cfg = await config();
    const secure = location.protocol === 'https:';
    const ls = cfg.listeners || [];
    const l = ls.find((x) => x.type === (secure ? 'wss' : 'ws')) || ls.find((x) => x.type === 'ws' || x.type === 'wss');
    if (!l) throw new Error('the gateway has no WebSocket MQTT listener (add one of type "ws" to its config)');
    const scheme = l.type === 'wss' ? 'wss' : 'ws';
    const host = publicHost(l.address);
    const url = `${scheme}://${host.includes(':') ? '[' + host + ']' : host}:${l.port}${l.path || '/mqtt'}`;
    const id = 'iotblocks-console-' + Math.random().toString(36).slice(2, 10);
    const c = new MqttClient(url, {clientId: id, keepAlive: 30});
    c.onState((s, detail) => showMqttState(s, detail, url));
    await c.connect();
    client = c;
    return c;
  })();
  try {
    return await clientPromise;
  } finally {
    clientPromise = null;
  }
}

export function mqttIfConnected() {
  return client && client.state === 'connected' ? client : null;
}

function showMqttState(state, detail, url) {
  const pill = document.getElementById('mqtt-state');
  pill.classList.remove('hidden');
  pill.textContent = 'MQTT ' + state;
  pill.title = url + (detail ? ' — ' + detail : '');
  pill.className = 'pill ' + (state === 'connected' ? 'ok' : state === 'connecting' ? '' : 'bad');
  if (state === 'disconnected' && client) client = null;
}

function showLogin(message) {
  if (cleanup) { cleanup(); cleanup = null; }
  document.getElementById('nav').classList.add('hidden');
  document.getElementById('logout').classList.add('hidden');
  const view = clear(document.getElementById('view'));
  const input = el('input', {type: 'password', id: 'login-token', autocomplete: 'current-password', required: true,
    placeholder: 'admin_token from the gateway config'});
  const error = el('p', {class: 'error', id: 'login-error'}, message || '');
  const form = el('form', {class: 'card login', id: 'login-form'},
    el('h1', {}, 'Sign in'),
    el('p', {class: 'muted'}, 'The admin token is kept in this tab only (sessionStorage) and sent as a Bearer token.'),
    field('Admin token', input),
    error,
    el('button', {type: 'submit', id: 'login-submit'}, 'Sign in'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    try {
      await api.admin('GET', '/rules', undefined, {tokenOverride: input.value});
      api.setToken(input.value);
      if (!location.hash || location.hash === '#/login') location.hash = '#/dashboard';  // routes
      else route();
    } catch (e) {
      error.textContent = e.status === 401 ? 'This token is not accepted.' :
        e.status === 403 ? 'The admin API is disabled: set admin_token in the gateway config.' : e.message;
    }
  });
  view.append(form);
  input.focus();
}

function route() {
  if (!api.token()) return showLogin();
  document.getElementById('nav').classList.remove('hidden');
  document.getElementById('logout').classList.remove('hidden');
  const name = (location.hash.replace(/^#\//, '').split('/')[0]) || 'dashboard';
  const view = views[name] || dashboard;
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.view === name);
  if (cleanup) { cleanup(); cleanup = null; }
  const container = clear(document.getElementById('view'));
  container.dataset.view = name;
  try {
    cleanup = view(container, {route: location.hash}) || null;
  } catch (e) {
    container.append(el('p', {class: 'error'}, e.message));
  }
}

api.setUnauthorizedHandler(() => {
  api.setToken('');
  toast('The admin token was refused; sign in again.', 'error');
  showLogin('The admin token was refused.');
});

document.getElementById('logout').addEventListener('click', () => {
  api.setToken('');
  if (client) client.disconnect();
  showLogin();
});
window.addEventListener('hashchange', route);
route();
