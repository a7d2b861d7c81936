// Things: list, create (name + attributes), inspect, delete.
import * as api from '../api.js';
import {el, clear, table, toast, field, button} from '../ui.js';

export default function things(container) {
  const list = el('div', {id: 'things-list'}, 'Loading…');
  const detail = el('div', {id: 'thing-detail'});
  const name = el('input', {id: 'thing-name', placeholder: 'e.g. greenhouse-probe-1', pattern: '[a-zA-Z0-9:_-]{1,128}'});
  const attrs = el('textarea', {id: 'thing-attributes', rows: 3, spellcheck: 'false'}, '{}');
  const form = el('form', {class: 'card'},
    el('h2', {}, 'Create or update a thing'),
    field('Name', name, 'letters, digits, ":", "_" and "-", up to 128'),
    field('Attributes (JSON object of strings)', attrs),
    el('button', {type: 'submit'}, 'Save thing'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    let attributes;
    try {
      attributes = JSON.parse(attrs.value || '{}');
    } catch (e) {
      return toast('Attributes: ' + e.message, 'error');
    }
    try {
      await api.admin('PUT', '/things/' + api.enc(name.value), {attributes});
      toast('Saved ' + name.value);
      load();
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  container.append(el('h1', {}, 'Things'),
    el('p', {}, el('a', {href: '#/wizard', class: 'button accent'}, 'Connect a device (thing + certificate + policy)')),
    list, detail, form);

  async function show(thingName) {
    clear(detail);
    try {
      const t = await api.admin('GET', '/things/' + api.enc(thingName));
      detail.append(el('section', {class: 'card'}, el('h2', {}, t.thingName || thingName),
        el('pre', {class: 'json'}, JSON.stringify(t, null, 2))));
    } catch (e) {
      detail.append(el('p', {class: 'error'}, e.message));
    }
  }

  async function load() {
    try {
      const data = await api.admin('GET', '/things');
      const rows = (data.things || []).map((t) => [
        el('a', {href: '#/things', onclick: (ev) => { ev.preventDefault(); show(t.thingName); }}, t.thingName),
        Object.entries(t.attributes || {}).map(([k, v]) => `${k}=${v}`).join(', '),
        String(t.version ?? ''),
        (t.principals || []).map((p) => el('code', {title: p}, String(p).slice(0, 12) + '… ')),
        button('Delete', async () => {
          if (!confirm('Delete thing ' + t.thingName + '?')) return;
          try {
            await api.admin('DELETE', '/things/' + api.enc(t.thingName));
            toast('Deleted ' + t.thingName);
            load();
          } catch (e) {
            toast(e.message, 'error');
          }
        }, {class: 'danger'}),
      ]);
      clear(list).append(table(['Name', 'Attributes', 'Version', 'Certificates', ''], rows, {id: 'things-table'}));
    } catch (e) {
      clear(list).append(el('p', {class: 'error'}, missing(e, 'GET /admin/things')));
    }
  }
  load();
}

/** The message for an endpoint this gateway does not have yet. */
export function missing(e, what) {
  return e.status === 404 || e.status === 405 ? `This gateway does not answer ${what} yet.` : e.message;
}
