// Live feed: lifecycle events ($aws/events/#: presence, certificate registrations)
// and shadow activity ($aws/things/+/shadow/#) over the shared MQTT connection.
import {mqtt} from '../app.js';
import {topicMatches} from '../mqtt.js';
import {messageNode} from './mqtt_client.js';
import {el, clear} from '../ui.js';

const FILTERS = ['$aws/events/#', '$aws/things/+/shadow/#'];
const MAX_SHOWN = 300;
const feed = [];
let subscribed = null;

function summary(m) {
  const t = m.topic.split('/');
  if (t[1] === 'events' && t[2] === 'presence') return `${t[4]} ${t[3]}`;
  if (t[1] === 'events' && t[2] === 'certificates') return `certificate registered under CA ${t[4] || ''}`;
  if (t[1] === 'things') return `shadow of ${t[2]}: ${t.slice(t.indexOf('shadow') + 1).join('/')}`;
  return m.topic;
}

export default function events(container) {
  const status = el('p', {class: 'muted', id: 'events-status'}, 'Connecting…');
  const list = el('ul', {class: 'messages', id: 'events'});
  container.append(el('h1', {}, 'Live events'),
    el('p', {}, 'Subscribed to ', FILTERS.map((f) => el('code', {}, f + ' '))), status, list);

  function node(m) {
    const n = messageNode(m);
    n.prepend(el('div', {class: 'event-summary'}, summary(m)));
    return n;
  }
  let off = () => {};
  let stop = false;
  (async () => {
    try {
      const client = await mqtt();
      if (stop) return;
      if (subscribed !== client) {
        const granted = await client.subscribe(FILTERS, 0);
        if (granted.some((g) => g === 128)) status.textContent = 'The gateway refused some of the subscriptions.';
        subscribed = client;
        client.onMessage((m) => {
          if (!FILTERS.some((f) => topicMatches(f, m.topic))) return;
          feed.push(m);
          if (feed.length > MAX_SHOWN) feed.shift();
        });
      }
      status.textContent = 'Live.';
      clear(list);
      for (let i = feed.length - 1; i >= 0; i--) list.append(node(feed[i]));
      off = client.onMessage((m) => {
        if (!FILTERS.some((f) => topicMatches(f, m.topic))) return;
        list.prepend(node(m));
        while (list.childNodes.length > MAX_SHOWN) list.lastChild.remove();
      });
    } catch (e) {
      status.textContent = 'MQTT over WebSocket: ' + e.message;
      status.className = 'error';
    }
  })();
  return () => { stop = true; off(); };
}
