// Thing groups: the hierarchy (a thing in a child group is in its parents), a group's
// attributes, members (direct and through child groups) and attached policies. AWS IoT's
// shapes through /admin/iot (ListThingGroups, DescribeThingGroup, ListThingsInThingGroup,
// ListAttachedPolicies).
import * as api from '../api.js';
import {el, clear, table} from '../ui.js';

/** Groups as a forest: [{name, children: [...]}] from {name: parent}. */
export function forest(parents) {
  const nodes = {};
  for (const name of Object.keys(parents)) nodes[name] = {name, children: []};
  const roots = [];
  for (const [name, parent] of Object.entries(parents)) {
    (parent && nodes[parent] ? nodes[parent].children : roots).push(nodes[name]);
  }
  const sort = (list) => { list.sort((a, b) => a.name.localeCompare(b.name)); list.forEach((n) => sort(n.children)); return list; };
  return sort(roots);
}

export default function groups(container) {
  const tree = el('div', {id: 'groups-tree'}, 'Loading…');
  const detail = el('div', {id: 'group-detail'});
  container.append(el('h1', {}, 'Thing groups'),
    el('p', {class: 'muted'}, 'Create groups and add things with aws iot create-thing-group / add-thing-to-thing-group.'),
    el('div', {class: 'split'}, tree, detail));

  function render(nodes) {
    return el('ul', {class: 'tree'}, nodes.map((n) => el('li', {},
      el('a', {href: '#/groups', class: 'group-link', dataset: {group: n.name},
        onclick: (ev) => { ev.preventDefault(); show(n.name); }}, n.name),
      n.children.length ? render(n.children) : null)));
  }

  async function show(name) {
    clear(detail);
    try {
      const g = await api.admin('GET', '/iot/thing-groups/' + api.enc(name));
      const [direct, all, policies] = await Promise.all([
        api.admin('GET', `/iot/thing-groups/${api.enc(name)}/things?maxResults=250`),
        api.admin('GET', `/iot/thing-groups/${api.enc(name)}/things?recursive=true&maxResults=250`),
        api.admin('POST', '/iot/attached-policies/' + api.enc(g.thingGroupArn), {}),
      ]);
      const own = new Set(direct.things || []);
      const meta = g.thingGroupMetadata || {};
      const chain = (meta.rootToParentThingGroups || []).map((p) => p.groupName);
      const attrs = ((g.thingGroupProperties || {}).attributePayload || {}).attributes || {};
      detail.append(el('section', {class: 'card', id: 'group-card'},
        el('h2', {}, 'Group ', el('code', {}, g.thingGroupName)),
        el('p', {class: 'muted'}, 'Path: ', [...chain, g.thingGroupName].join(' / ')),
        (g.thingGroupProperties || {}).thingGroupDescription ? el('p', {}, g.thingGroupProperties.thingGroupDescription) : null,
        el('h3', {}, 'Attributes'),
        table(['Name', 'Value'], Object.entries(attrs).map(([k, v]) => [k, v]), {id: 'group-attributes'}),
        el('h3', {}, 'Things'),
        table(['Thing', 'Membership'], (all.things || []).map((t) => [t, own.has(t) ? 'direct' : 'through a child group']),
          {id: 'group-things'}),
        el('h3', {}, 'Attached policies (apply to every thing in the group)'),
        table(['Policy'], (policies.policies || []).map((p) => [el('a', {href: '#/policies'}, p.policyName)]),
          {id: 'group-policies'})));
    } catch (e) {
      detail.append(el('p', {class: 'error'}, e.message));
    }
  }

  async function load() {
    try {
      const names = [];
      let next = '';
      do {
        const page = await api.admin('GET', '/iot/thing-groups?maxResults=250' + (next ? '&nextToken=' + api.enc(next) : ''));
        names.push(...(page.thingGroups || []).map((g) => g.groupName));
        next = page.nextToken || '';
      } while (next);
      const parents = {};
      await Promise.all(names.map(async (n) => {
        const g = await api.admin('GET', '/iot/thing-groups/' + api.enc(n));
        parents[n] = (g.thingGroupMetadata || {}).parentGroupName || '';
      }));
      clear(tree).append(names.length ? render(forest(parents)) : el('p', {class: 'muted'}, 'No thing groups.'));
    } catch (e) {
      clear(tree).append(el('p', {class: 'error'}, e.message));
    }
  }
  load();
}
