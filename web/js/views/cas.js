// CA certificates: registration code (with the openssl steps of a verification
// certificate), register, status, auto-registration, delete.
import * as api from '../api.js';
import {el, clear, table, toast, field, button} from '../ui.js';
import {missing} from './things.js';

function readFileInto(input, textarea) {
  input.addEventListener('change', async () => {
    if (input.files[0]) textarea.value = await input.files[0].text();
  });
}

export default function cas(container) {
  const code = el('div', {id: 'registration-code'}, 'Loading…');
  const list = el('div', {id: 'cas-list'}, 'Loading…');
  const caPem = el('textarea', {id: 'ca-pem', rows: 6, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----'});
  const verPem = el('textarea', {id: 'verification-pem', rows: 6, spellcheck: 'false', placeholder: '-----BEGIN CERTIFICATE-----'});
  const caFile = el('input', {type: 'file', accept: '.pem,.crt'});
  const verFile = el('input', {type: 'file', accept: '.pem,.crt'});
  readFileInto(caFile, caPem);
  readFileInto(verFile, verPem);
  const active = el('input', {type: 'checkbox', checked: true, id: 'ca-active'});
  const auto = el('input', {type: 'checkbox', id: 'ca-auto'});
  const form = el('form', {class: 'card'},
    el('h2', {}, 'Register a CA certificate'),
    field('CA certificate (PEM)', [caPem, caFile]),
    field('Verification certificate (PEM)', [verPem, verFile], 'signed by the CA, with the registration code as subject CN'),
    el('label', {class: 'check'}, active, ' Active'),
    el('label', {class: 'check'}, auto, ' Auto-registration of device certificates (JITR)'),
    el('button', {type: 'submit'}, 'Register'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    try {
      const r = await api.admin('POST', '/cas', {caPem: caPem.value, verificationPem: verPem.value,
        status: active.checked ? 'ACTIVE' : 'INACTIVE', autoRegistration: auto.checked});
      toast('Registered CA ' + r.caId);
      caPem.value = verPem.value = '';
      load();
    } catch (e) {
      toast(e.message, 'error');
    }
  });
  container.append(el('h1', {}, 'CA certificates'), code, list, form);

  async function loadCode() {
    try {
      const r = await api.admin('GET', '/registration-code');
      clear(code).append(el('section', {class: 'card'}, el('h2', {}, 'Registration code'),
        el('code', {class: 'big', id: 'registration-code-value'}, r.registrationCode),
        el('p', {class: 'muted'}, 'Make a verification certificate signed by your CA:'),
        el('pre', {class: 'command'},
          'openssl genrsa -out verification.key 2048\n' +
          `openssl req -new -key verification.key -subj "/CN=${r.registrationCode}" -out verification.csr\n` +
          'openssl x509 -req -in verification.csr -CA rootCA.pem -CAkey rootCA.key -CAcreateserial \\\n' +
          '  -out verification.pem -days 1 -sha256')));
    } catch (e) {
      clear(code).append(el('p', {class: 'error'}, missing(e, 'GET /admin/registration-code')));
    }
  }

  async function update(id, body) {
    try {
      await api.admin('PUT', '/cas/' + api.enc(id), body);
      load();
    } catch (e) {
      toast(e.message, 'error');
    }
  }

  async function load() {
    try {
      const data = await api.admin('GET', '/cas');
      const rows = (data.cas || []).map((c) => [
        el('code', {title: c.caId}, String(c.caId).slice(0, 16) + '…'),
        el('span', {class: 'status status-' + String(c.status).toLowerCase()}, c.status),
        c.subject || '',
        c.autoRegistration ? 'on' : 'off',
        el('span', {class: 'actions'},
          button(c.status === 'ACTIVE' ? 'Deactivate' : 'Activate',
            () => update(c.caId, {status: c.status === 'ACTIVE' ? 'INACTIVE' : 'ACTIVE', autoRegistration: !!c.autoRegistration})),
          button(c.autoRegistration ? 'Disable auto-registration' : 'Enable auto-registration',
            () => update(c.caId, {status: c.status, autoRegistration: !c.autoRegistration})),
          button('Delete', async () => {
            if (!confirm('Delete CA ' + c.caId + '?')) return;
            try {
              await api.admin('DELETE', '/cas/' + api.enc(c.caId));
              load();
            } catch (e) {
              toast(e.message, 'error');
            }
          }, {class: 'danger'})),
      ]);
      clear(list).append(table(['Id', 'Status', 'Subject', 'Auto-registration', ''], rows, {id: 'cas-table'}));
    } catch (e) {
      clear(list).append(el('p', {class: 'error'}, missing(e, 'GET /admin/cas')));
    }
  }
  loadCode();
  load();
}
