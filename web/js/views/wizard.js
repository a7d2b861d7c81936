// "Connect a device": creates a thing, a policy and a certificate through the admin
// API, then offers the certificate, the private key (shown this once: the gateway
// does not keep it) and the CA as downloads, with a mosquitto_pub command line.
import * as api from '../api.js';
import {config, publicHost} from '../app.js';
import {el, clear, toast, field, button, downloadLink, showPositionError, clearError} from '../ui.js';

const THING_NAME = /^[a-zA-Z0-9:_-]{1,128}$/;

/** A policy letting the device connect as itself and use its own topics and shadow. */
export function devicePolicy(thing) {
  const arn = 'arn:aws:iot:*:*:';
  return {
    Version: '2012-10-17',
    Statement: [
      {Effect: 'Allow', Action: 'iot:Connect', Resource: `${arn}client/${thing}`},
      {Effect: 'Allow', Action: ['iot:Publish', 'iot:Receive'],
        Resource: [`${arn}topic/devices/${thing}/*`, `${arn}topic/$aws/things/${thing}/shadow/*`]},
      {Effect: 'Allow', Action: 'iot:Subscribe',
        Resource: [`${arn}topicfilter/devices/${thing}/*`, `${arn}topicfilter/$aws/things/${thing}/shadow/*`]},
    ],
  };
}

function shellQuote(s) {
  return /^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : "'" + s.replace(/'/g, "'\\''") + "'";
}

export default function wizard(container) {
  const name = el('input', {id: 'wizard-thing', placeholder: 'e.g. greenhouse-probe-1', required: true});
  const attrs = el('textarea', {id: 'wizard-attributes', rows: 2, spellcheck: 'false'}, '{}');
  const policyName = el('input', {id: 'wizard-policy-name'});
  const policyDoc = el('textarea', {id: 'wizard-policy', rows: 14, spellcheck: 'false', class: 'code'});
  const policyError = el('div', {class: 'code-error hidden', id: 'wizard-policy-error'});
  const steps = el('ol', {class: 'steps', id: 'wizard-steps'});
  const result = el('div', {id: 'wizard-result'});
  let policyEdited = false;
  policyDoc.addEventListener('input', () => { policyEdited = true; clearError(policyError, policyDoc); });
  name.addEventListener('input', () => {
    policyName.value = name.value ? name.value + '-policy' : '';
    if (!policyEdited) policyDoc.value = JSON.stringify(devicePolicy(name.value || '<thing>'), null, 2);
  });
  policyDoc.value = JSON.stringify(devicePolicy('<thing>'), null, 2);

  function step(text) {
    const li = el('li', {class: 'running'}, text);
    steps.append(li);
    return {
      ok: (more) => { li.className = 'done'; if (more) li.append(' — ', more); },
      fail: (e) => { li.className = 'failed'; li.append(' — ', e.message); },
    };
  }

  async function create(ev) {
    ev.preventDefault();
    clear(steps);
    clear(result);
    clearError(policyError, policyDoc);
    const thing = name.value.trim();
    if (!THING_NAME.test(thing)) return toast('Thing names use letters, digits, ":", "_" and "-" (1 to 128).', 'error');
    let attributes;
    try {
      attributes = JSON.parse(attrs.value || '{}');
    } catch (e) {
      return toast('Attributes: ' + e.message, 'error');
    }
    submit.disabled = true;
    let s;
    try {
      s = step(`Thing ${thing}`);
      await api.admin('PUT', '/things/' + api.enc(thing), {attributes});
      s.ok('created');
      s = step(`Policy ${policyName.value}`);
      try {
        await api.admin('PUT', '/policies/' + api.enc(policyName.value), policyDoc.value);
      } catch (e) {
        showPositionError(policyError, policyDoc, e, policyDoc.value, 'Policy refused');
        throw e;
      }
      s.ok('saved');
      s = step('Certificate and key pair (made by the gateway, signed by its device CA)');
      const cert = await api.admin('POST', `/things/${api.enc(thing)}/certificate`, {policy: policyName.value});
      s.ok(el('code', {id: 'wizard-cert-id'}, cert.certificateId));
      await showResult(thing, cert);
    } catch (e) {
      if (s) s.fail(e.status === 404 || e.status === 405 ? new Error(e.message + ' (endpoint missing on this gateway?)') : e);
    } finally {
      submit.disabled = false;
    }
  }

  async function showResult(thing, cert) {
    const cfg = await config();
    const tls = (cfg.listeners || []).find((l) => l.type === 'mqtts');
    const files = {cert: `${thing}.cert.pem`, key: `${thing}.private.key`, ca: 'root-CA.pem'};
    const clientId = cert.clientId || thing;
    const topic = `devices/${thing}/hello`;
    const command = tls
      ? ['mosquitto_pub', '-h', publicHost(tls.address), '-p', String(tls.port), '--cafile', files.ca,
        '--cert', files.cert, '--key', files.key, '-i', clientId, '-q', '1', '-t', topic,
        '-m', JSON.stringify({hello: 'from ' + thing})].map(shellQuote).join(' ')
      : null;
    result.append(el('section', {class: 'card', id: 'wizard-done'},
      el('h2', {}, 'Your device files'),
      el('p', {class: 'warning'}, 'Download the private key now: the gateway does not keep it and this page will not show it again.'),
      el('div', {class: 'actions', id: 'wizard-downloads'},
        downloadLink(files.cert, cert.certificatePem, 'Certificate (' + files.cert + ')'),
        downloadLink(files.key, cert.privateKey, 'Private key (' + files.key + ')'),
        downloadLink(files.ca, cert.caPem, 'CA (' + files.ca + ')')),
      el('h3', {}, 'Try it'),
      command
        ? [el('p', {}, 'In the folder with the three files:'), el('pre', {class: 'command', id: 'wizard-command'}, command),
          el('p', {class: 'muted'}, 'Subscribe to ', el('code', {}, `devices/${thing}/#`),
            ' in the MQTT client view to see the message; the connection shows on the dashboard and in the live events.')]
        : el('p', {class: 'error'}, 'The gateway has no mqtts listener: add one (type "mqtts" with tls cert_file/key_file) to connect with certificates.')));
    // Drop the key from this closure's reach once offered: only the blob link holds it.
    cert.privateKey = undefined;
  }

  const submit = el('button', {type: 'submit', id: 'wizard-create'}, 'Create thing, policy and certificate');
  const form = el('form', {class: 'card'},
    el('h2', {}, '1. The thing'), field('Thing name (also the MQTT client id)', name), field('Attributes (JSON)', attrs),
    el('h2', {}, '2. Its policy'), field('Policy name', policyName), policyDoc, policyError,
    el('h2', {}, '3. Create'), submit);
  form.addEventListener('submit', create);
  container.append(el('h1', {}, 'Connect a device'), form, steps, result);
  return () => {
    // Leaving the page revokes the download links (the key is gone with them).
    for (const a of result.querySelectorAll('a[href^="blob:"]')) URL.revokeObjectURL(a.href);
  };
}
