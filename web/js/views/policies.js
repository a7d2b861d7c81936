// Policies: list, view, edit (the gateway's parse errors shown at their position),
// attach to / detach from a certificate, delete.
import * as api from '../api.js';
import {el, clear, toast, field, button, showPositionError, clearError} from '../ui.js';

export const POLICY_TEMPLATE = {
  Version: '2012-10-17',
  Statement: [{Effect: 'Allow', Action: ['iot:Connect'], Resource: ['arn:aws:iot:*:*:client/${iot:ClientId}']}],
};

export default function policies(container, ctx) {
  const list = el('ul', {class: 'names', id: 'policies-list'});
  const name = el('input', {id: 'policy-name', placeholder: 'policy name'});
  const doc = el('textarea', {id: 'policy-document', rows: 18, spellcheck: 'false', class: 'code'});
  const errorBox = el('div', {class: 'code-error hidden', id: 'policy-error'});
  const principal = el('input', {id: 'policy-principal', placeholder: 'certificate id', list: 'cert-ids'});
  const certIds = el('datalist', {id: 'cert-ids'});
  doc.addEventListener('input', () => clearError(errorBox, doc));

  async function save() {
    clearError(errorBox, doc);
    if (!name.value) return toast('Give the policy a name', 'error');
    try {
      await api.admin('PUT', '/policies/' + api.enc(name.value), doc.value);
      toast('Saved policy ' + name.value);
      loadList();
    } catch (e) {
      showPositionError(errorBox, doc, e, doc.value, 'Policy refused');
    }
  }
  async function attach(verb) {
    try {
      await api.admin('POST', `/policies/${api.enc(name.value)}/${verb}`, {principal: principal.value});
      toast(`${verb === 'attach' ? 'Attached' : 'Detached'} ${name.value} ${verb === 'attach' ? 'to' : 'from'} ${principal.value}`);
    } catch (e) {
      toast(e.status === 404 && /not found/.test(e.message) ? `This gateway does not answer POST /admin/policies/{name}/${verb} yet.` : e.message, 'error');
    }
  }
  async function remove() {
    if (!confirm('Delete policy ' + name.value + '?')) return;
    try {
      await api.admin('DELETE', '/policies/' + api.enc(name.value));
      toast('Deleted ' + name.value);
      doc.value = '';
      loadList();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  const editor = el('section', {class: 'card'},
    el('h2', {}, 'Policy document'),
    field('Name', name),
    doc, errorBox,
    el('div', {class: 'actions'},
      button('Save', save, {id: 'policy-save'}),
      button('New from template', () => {
        name.value = '';
        doc.value = JSON.stringify(POLICY_TEMPLATE, null, 2);
        clearError(errorBox, doc);
      }),
      button('Delete', remove, {class: 'danger'})),
    el('h3', {}, 'Attach to a certificate'),
    el('div', {class: 'actions'}, principal, certIds,
      button('Attach', () => attach('attach'), {id: 'policy-attach'}),
      button('Detach', () => attach('detach'), {id: 'policy-detach'})));
  container.append(el('h1', {}, 'Policies'), el('div', {class: 'split'},
    el('section', {class: 'card'}, el('h2', {}, 'Policies'), list), editor));

  async function open(n) {
    clearError(errorBox, doc);
    try {
      const d = await api.admin('GET', '/policies/' + api.enc(n));
      name.value = n;
      doc.value = JSON.stringify(d, null, 2);
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function loadList() {
    try {
      const data = await api.admin('GET', '/policies');
      clear(list);
      for (const n of data.policies || []) {
        const label = typeof n === 'string' ? n : n.policyName || n.name;
        list.append(el('li', {}, el('a', {href: '#/policies/' + encodeURIComponent(label),
          onclick: (ev) => { ev.preventDefault(); open(label); }}, label)));
      }
      if (!list.firstChild) list.append(el('li', {class: 'muted'}, 'none'));
    } catch (e) {
      clear(list).append(el('li', {class: 'error'}, e.message));
    }
  }
  async function loadCerts() {
    try {
      const data = await api.admin('GET', '/certificates');
      for (const c of data.certificates || []) certIds.append(el('option', {value: c.certificateId}, (c.things || []).join(', ')));
    } catch {
      // older gateway without certificates: the field stays free text
    }
  }
  loadList();
  loadCerts();
  const wanted = decodeURIComponent((ctx.route.split('/')[2] || ''));
  if (wanted) open(wanted);
  else doc.value = JSON.stringify(POLICY_TEMPLATE, null, 2);
}
