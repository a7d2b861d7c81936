// Rules: list, view (SQL, actions, enabled, metrics), edit with the engine's error
// position highlighted in the SQL, enable / disable, delete.
import * as api from '../api.js';
import {el, clear, toast, field, button, showPositionError, clearError, table} from '../ui.js';

const NEW_RULE = {sql: "SELECT * FROM 'sensors/+'", actions: [{republish: {topic: 'copy/${topic(2)}', qos: 0}}]};

/** Where the SQL text sits inside the document we send, so a position in the
 *  document can be mapped back into the SQL editor. */
function documentWithSql(sql, rest) {
  const head = '{"sql":';
  const sqlJson = JSON.stringify(sql);
  const tail = Object.keys(rest).length ? ',' + JSON.stringify(rest).slice(1) : '}';
  return {text: head + sqlJson + tail, sqlStart: head.length};
}

export default function rules(container, ctx) {
  const list = el('ul', {class: 'names', id: 'rules-list'});
  const name = el('input', {id: 'rule-name', placeholder: 'rule name (letters, digits, _)'});
  const sql = el('textarea', {id: 'rule-sql', rows: 5, spellcheck: 'false', class: 'code'});
  const actions = el('textarea', {id: 'rule-actions', rows: 8, spellcheck: 'false', class: 'code'});
  const errorBox = el('div', {class: 'code-error hidden', id: 'rule-error'});
  const state = el('span', {id: 'rule-state', class: 'pill'});
  const metrics = el('div', {id: 'rule-metrics'});
  sql.addEventListener('input', () => clearError(errorBox, sql));
  actions.addEventListener('input', () => clearError(errorBox, actions));

  async function save() {
    clearError(errorBox, sql);
    clearError(errorBox, actions);
    if (!name.value) return toast('Give the rule a name', 'error');
    let rest;
    try {
      rest = JSON.parse(actions.value || '{}');
      if (Array.isArray(rest)) rest = {actions: rest};
    } catch (e) {
      return showPositionError(errorBox, actions, {message: e.message, position: null}, actions.value, 'Actions JSON');
    }
    if ((rest.actions || []).some((x) => typeof x !== 'object') || typeof rest.errorAction === 'string') {
      return showPositionError(errorBox, actions, {message: 'the gateway listed only the action types; ' +
        'give each action in full (e.g. {"republish": {"topic": "t", "qos": 0}}) before saving', position: null},
      actions.value, 'Actions');
    }
    const {text} = documentWithSql(sql.value, rest);
    try {
      await api.admin('PUT', '/rules/' + api.enc(name.value), text);
      toast('Saved rule ' + name.value);
      loadList();
      open(name.value);
    } catch (e) {
      showSqlError(e);
    }
  }

  /** The engine reports SQL errors at a position in the SQL text. */
  function showSqlError(e) {
    const inSql = /^iotblocks\.sql:/.test(e.code || '') || e.message.startsWith('sql:');
    if (e.position && inSql) showPositionError(errorBox, sql, e, sql.value, 'SQL error');
    else showPositionError(errorBox, null, Object.assign({}, e, {message: e.message}), undefined, 'Rule refused');
  }

  async function setEnabled(enabled) {
    try {
      await api.admin('POST', `/rules/${api.enc(name.value)}/${enabled ? 'enable' : 'disable'}`);
      toast(`${name.value} ${enabled ? 'enabled' : 'disabled'}`);
      open(name.value);
    } catch (e) {
      toast(e.status === 404 && /not found/.test(e.message)
        ? 'This gateway does not answer POST /admin/rules/{name}/enable|disable yet.' : e.message, 'error');
    }
  }

  async function remove() {
    if (!confirm('Delete rule ' + name.value + '?')) return;
    try {
      await api.admin('DELETE', '/rules/' + api.enc(name.value));
      toast('Deleted ' + name.value);
      loadList();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  container.append(el('h1', {}, 'Rules'), el('div', {class: 'split'},
    el('section', {class: 'card'}, el('h2', {}, 'Rules'), list,
      button('New rule', () => fill('', NEW_RULE.sql, {actions: NEW_RULE.actions}, null))),
    el('section', {class: 'card'},
      el('h2', {}, 'Rule ', state),
      field('Name', name),
      field('SQL', sql),
      errorBox,
      field('Actions and other fields (JSON: {"actions": [...], "errorAction": ...})', actions),
      el('div', {class: 'actions'},
        button('Save', save, {id: 'rule-save'}),
        button('Enable', () => setEnabled(true), {id: 'rule-enable'}),
        button('Disable', () => setEnabled(false), {id: 'rule-disable'}),
        button('Delete', remove, {class: 'danger'})),
      el('h3', {}, 'Metrics'), metrics)));

  function fill(n, sqlText, rest, enabled) {
    name.value = n;
    sql.value = sqlText || '';
    actions.value = JSON.stringify(rest, null, 2);
    state.textContent = enabled === null ? 'new' : enabled === undefined ? 'state unknown' : enabled ? 'enabled' : 'disabled';
    state.className = 'pill ' + (enabled === false ? 'bad' : enabled ? 'ok' : '');
    clearError(errorBox, sql);
    clear(metrics);
  }

  async function open(n) {
    try {
      const r = await api.admin('GET', '/rules/' + api.enc(n));
      // Prefer a full document when the gateway gives one; else the contract's fields.
      const doc = (r.document && typeof r.document === 'object') ? r.document : r;
      const rest = {};
      for (const k of ['actions', 'errorAction', 'description', 'awsIotSqlVersion']) if (doc[k] !== undefined) rest[k] = doc[k];
      if (!rest.actions) rest.actions = [];
      fill(n, doc.sql || '', rest, r.enabled ?? (doc.ruleDisabled === undefined ? undefined : !doc.ruleDisabled));
      if (rest.actions.some((x) => typeof x !== 'object')) {
        errorBox.className = 'code-error';
        errorBox.textContent = 'This gateway lists the action types only: give the actions in full to save changes.';
      }
      if (doc.sql === undefined) {
        state.textContent = 'SQL not returned by this gateway';
      }
      const m = r.metrics || r;
      const keys = Object.keys(m).filter((k) => typeof m[k] === 'number');
      clear(metrics).append(table(['Metric', 'Value'], keys.map((k) => [k, String(m[k])]), {id: 'rule-metrics-table'}));
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function loadList() {
    try {
      const data = await api.admin('GET', '/rules');
      clear(list);
      for (const r of data.rules || []) {
        const n = typeof r === 'string' ? r : r.ruleName || r.name;
        list.append(el('li', {}, el('a', {href: '#/rules/' + encodeURIComponent(n),
          onclick: (ev) => { ev.preventDefault(); open(n); }}, n)));
      }
      if (!list.firstChild) list.append(el('li', {class: 'muted'}, 'none'));
    } catch (e) {
      clear(list).append(el('li', {class: 'error'}, e.message));
    }
  }
  loadList();
  const wanted = decodeURIComponent(ctx.route.split('/')[2] || '');
  if (wanted) open(wanted);
  else fill('', NEW_RULE.sql, {actions: NEW_RULE.actions}, null);
}
