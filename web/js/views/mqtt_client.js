// MQTT client over WebSocket: subscribe to filters, publish, and the messages with
// topic, QoS, retain flag and the payload pretty-printed.
import {mqtt, mqttIfConnected} from '../app.js';
import {describePayload, topicMatches} from '../mqtt.js';
import {el, clear, toast, field, button, formatTime} from '../ui.js';

const MAX_SHOWN = 500;
const subscriptions = new Map();  // filter -> granted QoS (kept while the tab lives)
const messages = [];  // newest last, shared across visits of the view

export function messageNode(m) {
  const p = describePayload(m.payload);
  return el('li', {class: 'message', dataset: {topic: m.topic}},
    el('div', {class: 'message-head'},
      el('code', {class: 'topic'}, m.topic),
      el('span', {class: 'pill'}, 'QoS ' + m.qos),
      m.retain ? el('span', {class: 'pill retain'}, 'retained') : null,
      m.dup ? el('span', {class: 'pill'}, 'dup') : null,
      el('span', {class: 'muted'}, formatTime(m.time) + ' · ' + m.payload.length + ' B' + (p.kind === 'hex' ? ' (binary)' : ''))),
    el('pre', {class: 'payload ' + p.kind}, p.text));
}

let collecting = null;
function collect(client) {
  if (collecting === client) return;
  collecting = client;
  client.onMessage((m) => {
    if (![...subscriptions.keys()].some((f) => topicMatches(f, m.topic))) return;
    messages.push(m);
    if (messages.length > MAX_SHOWN) messages.shift();
  });
}

export default function mqttClient(container) {
  const filter = el('input', {id: 'sub-filter', value: '#', placeholder: 'topic filter, e.g. sensors/+/temp'});
  const subQos = el('select', {id: 'sub-qos'}, el('option', {value: '0'}, 'QoS 0'), el('option', {value: '1'}, 'QoS 1'));
  const subs = el('ul', {class: 'names', id: 'subscriptions'});
  const topic = el('input', {id: 'pub-topic', value: 'console/hello'});
  const pubQos = el('select', {id: 'pub-qos'}, el('option', {value: '0'}, 'QoS 0'), el('option', {value: '1'}, 'QoS 1'));
  const retain = el('input', {type: 'checkbox', id: 'pub-retain'});
  const payload = el('textarea', {id: 'pub-payload', rows: 4, spellcheck: 'false', class: 'code'}, '{"hello": "world"}');
  const list = el('ul', {class: 'messages', id: 'messages'});
  const status = el('p', {class: 'muted', id: 'mqtt-status'}, 'Connecting…');

  function renderSubs(client) {
    clear(subs);
    for (const [f, q] of subscriptions) {
      subs.append(el('li', {}, el('code', {}, f), ` (granted ${q === 128 ? 'refused' : 'QoS ' + q}) `,
        button('Unsubscribe', async () => {
          try {
            await client.unsubscribe(f);
            subscriptions.delete(f);
            renderSubs(client);
          } catch (e) {
            toast(e.message, 'error');
          }
        })));
    }
  }
  function renderMessages() {
    clear(list);
    for (let i = messages.length - 1; i >= 0; i--) list.append(messageNode(messages[i]));
  }

  let client = null;
  const subscribe = button('Subscribe', async () => {
    try {
      const granted = await client.subscribe(filter.value, Number(subQos.value));
      subscriptions.set(filter.value, granted[0]);
      renderSubs(client);
      if (granted[0] === 128) toast('The gateway refused the subscription to ' + filter.value, 'error');
    } catch (e) {
      toast(e.message, 'error');
    }
  }, {id: 'sub-button', disabled: true});
  const publish = button('Publish', async () => {
    try {
      await client.publish(topic.value, payload.value, {qos: Number(pubQos.value), retain: retain.checked});
      toast('Published on ' + topic.value + (pubQos.value === '1' ? ' (PUBACK received)' : ''));
    } catch (e) {
      toast(e.message, 'error');
    }
  }, {id: 'pub-button', disabled: true});

  container.append(el('h1', {}, 'MQTT client'), status,
    el('div', {class: 'split'},
      el('section', {class: 'card'}, el('h2', {}, 'Subscribe'),
        el('div', {class: 'actions'}, filter, subQos, subscribe), subs,
        el('h2', {}, 'Publish'), field('Topic', topic), payload,
        el('div', {class: 'actions'}, pubQos, el('label', {class: 'check'}, retain, ' retain'), publish)),
      el('section', {class: 'card'}, el('h2', {}, 'Messages ', button('Clear', () => { messages.length = 0; renderMessages(); })),
        list)));

  let stop = false;
  let off = () => {};
  (async () => {
    try {
      client = mqttIfConnected() || await mqtt();
      if (stop) return;
      collect(client);
      status.textContent = 'Connected as ' + client.options.clientId + ' to ' + client.url;
      subscribe.disabled = publish.disabled = false;
      renderSubs(client);
      renderMessages();
      off = client.onMessage((m) => {
        if ([...subscriptions.keys()].some((f) => topicMatches(f, m.topic))) {
          list.prepend(messageNode(m));
          while (list.childNodes.length > MAX_SHOWN) list.lastChild.remove();
        }
      });
      client.onState((s, d) => { if (s !== 'connected') status.textContent = 'MQTT ' + s + (d ? ': ' + d : ''); });
    } catch (e) {
      status.textContent = 'MQTT over WebSocket: ' + e.message;
      status.className = 'error';
    }
  })();
  return () => { stop = true; off(); };
}
