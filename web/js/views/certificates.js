// Certificates: status, activate / deactivate / revoke, PEM, delete. Private keys
// are never served (the gateway keeps none).
import * as api from '../api.js';
import {el, clear, table, toast, button} from '../ui.js';
import {missing} from './things.js';

export default function certificates(container) {
  const list = el('div', {id: 'certificates-list'}, 'Loading…');
  const detail = el('div', {id: 'certificate-detail'});
  container.append(el('h1', {}, 'Certificates'), list, detail);

  async function setStatus(id, status) {
    try {
      await api.admin('PUT', '/certificates/' + api.enc(id), {status});
      toast(`${id.slice(0, 12)}…: ${status}`);
      load();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function show(id) {
    clear(detail);
    try {
      const c = await api.admin('GET', '/certificates/' + api.enc(id));
      detail.append(el('section', {class: 'card'}, el('h2', {}, 'Certificate ' + id),
        el('pre', {class: 'json'}, JSON.stringify(Object.assign({}, c, {certificatePem: undefined}), null, 2)),
        c.certificatePem ? el('pre', {class: 'pem'}, c.certificatePem) : null));
    } catch (e) {
      detail.append(el('p', {class: 'error'}, e.message));
    }
  }

  async function load() {
    try {
      const data = await api.admin('GET', '/certificates');
      const rows = (data.certificates || []).map((c) => [
        el('a', {href: '#/certificates', title: c.certificateId,
          onclick: (ev) => { ev.preventDefault(); show(c.certificateId); }}, String(c.certificateId).slice(0, 16) + '…'),
        el('span', {class: 'status status-' + String(c.status).toLowerCase()}, c.status),
        c.subject || '', c.notAfter || '', (c.things || []).join(', '), (c.policies || []).join(', '),
        el('span', {class: 'actions'},
          button('Activate', () => setStatus(c.certificateId, 'ACTIVE'), {disabled: c.status === 'ACTIVE' || c.status === 'REVOKED'}),
          button('Deactivate', () => setStatus(c.certificateId, 'INACTIVE'), {disabled: c.status !== 'ACTIVE'}),
          button('Revoke', () => {
            if (confirm('Revoke? A revoked certificate cannot be activated again.')) setStatus(c.certificateId, 'REVOKED');
          }, {class: 'danger', disabled: c.status === 'REVOKED'}),
          button('Delete', async () => {
            if (!confirm('Delete certificate ' + c.certificateId + '?')) return;
            try {
              await api.admin('DELETE', '/certificates/' + api.enc(c.certificateId));
              load();
            } catch (e) {
              toast(e.message, 'error');
            }
          }, {class: 'danger'})),
      ]);
      clear(list).append(table(['Id', 'Status', 'Subject', 'Not after', 'Things', 'Policies', ''], rows,
        {id: 'certificates-table'}));
    } catch (e) {
      clear(list).append(el('p', {class: 'error'}, missing(e, 'GET /admin/certificates')));
    }
  }
  load();
}
