// The views, each rebuilt from the latest overview. Forms and open details survive the
// updates: API cards are rebuilt only when the schemas change, and the dead-letter table only
// when its ids do.
import { badge, byId, clock, duration, fillRows, h, json } from './dom.js';
import { rateChart } from './chart.js';
import { describeType, parameterFields } from './forms.js';

export const RATE_WINDOW_MS = 5 * 60_000;

const list = (items) => (items.length === 0 ? h('span', { class: 'none' }, '–') : items.map((i) => h('span', { class: 'chip' }, i)));

export function renderProcesses(overview) {
  const rows = overview.processes.map((p) =>
    h(
      'tr',
      { class: `process status-${p.status}`, dataset: { process: p.process } },
      h('td', {}, badge(p.status)),
      h('td', {}, p.service),
      h('td', { class: 'mono' }, p.process),
      h('td', { class: 'mono' }, `${p.host} / ${p.pid}`),
      h('td', {}, list(p.apis)),
      h('td', {}, list(p.listeners)),
      h('td', { class: 'num' }, p.workers),
      h('td', {}, list((p.tasks ?? []).map((t) => `${t.name} (${t.cron ?? duration(t.everyMs)})`))),
      h('td', {}, duration(p.uptimeMs)),
      h('td', {}, `${duration(p.lastSeenAgoMs)} ago`),
      h('td', { class: 'mono' }, p.version),
    ),
  );
  fillRows(byId('process-rows'), rows, byId('processes-empty'));
  byId('count-processes').textContent = String(overview.processes.filter((p) => p.status === 'live').length);
}

/** The servers line of each API card, and cards for APIs that are served but publish no schema. */
export function renderApiServers(overview, schemas, actions) {
  for (const api of overview.apis) {
    let card = findCard(api.api);
    if (!card) {
      card = apiCard(api.api, schemas[api.api], actions);
      byId('api-cards').append(card);
    }
    card.querySelector('.servers').replaceChildren(
      ...(api.servedBy.length === 0 ? [h('span', { class: 'none' }, 'nobody serves it')] : api.servedBy.map((s) => h('span', { class: `chip status-${s.status}` }, `${s.service} / ${s.process} (${s.status})`))),
    );
  }
  byId('apis-empty').hidden = overview.apis.length > 0;
  byId('count-apis').textContent = String(overview.apis.length);
}

/** Every API card again, from the schemas (forms are cleared: the schema they had may be gone). */
export function renderApiCards(schemas, overview, actions) {
  const names = new Set([...Object.keys(schemas), ...(overview?.apis ?? []).map((a) => a.api)]);
  byId('api-cards').replaceChildren(...[...names].sort().map((name) => apiCard(name, schemas[name], actions)));
  if (overview) renderApiServers(overview, schemas, actions);
}

function findCard(api) {
  return [...byId('api-cards').children].find((card) => card.dataset.api === api);
}

function apiCard(name, schema, actions) {
  const rpcs = Object.entries(schema?.rpcs ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const events = Object.entries(schema?.events ?? {}).sort(([a], [b]) => a.localeCompare(b));
  return h(
    'article',
    { class: 'card api', dataset: { api: name } },
    h('h2', {}, name),
    h('div', { class: 'servers' }),
    schema ? null : h('p', { class: 'hint' }, 'No schema published: its members are unknown here.'),
    rpcs.length > 0 ? h('h3', {}, 'RPCs') : null,
    rpcs.map(([rpc, def]) => rpcForm(name, rpc, def, actions)),
    events.length > 0 ? h('h3', {}, 'Events') : null,
    events.map(([event, def]) =>
      h(
        'div',
        { class: 'member event-def' },
        h('span', { class: 'mono name' }, event),
        h('span', { class: 'type' }, describeType(def?.parameters)),
      ),
    ),
  );
}

function rpcForm(api, rpc, def, actions) {
  const fields = parameterFields(def?.parameters);
  const output = h('output', { class: 'call-result' });
  const submit = h('button', { type: 'submit' }, 'Call');
  const form = h(
    'form',
    { class: 'member rpc', dataset: { rpc: `${api}.${rpc}` } },
    h('div', { class: 'signature' }, h('span', { class: 'mono name' }, rpc), h('span', { class: 'type' }, `→ ${describeType(def?.response)}`)),
    h('div', { class: 'fields' }, fields.nodes),
    h('div', { class: 'actions' }, submit, output),
  );
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    output.className = 'call-result';
    let params;
    try {
      params = fields.read();
    } catch (error) {
      output.textContent = error.message;
      output.classList.add('failed');
      return;
    }
    submit.disabled = true;
    output.textContent = 'calling…';
    try {
      const outcome = await actions.call(api, rpc, params);
      fields.showIssues(outcome.invalid ? outcome.issues : []);
      if (outcome.ok) {
        output.textContent = json(outcome.result);
        output.classList.add('ok');
      } else if (outcome.invalid) {
        output.textContent = `not sent: the parameters do not match the schema (${outcome.issues.length} problem${outcome.issues.length === 1 ? '' : 's'})`;
        output.classList.add('failed');
      } else {
        output.textContent = `${outcome.error?.name ?? 'Error'}: ${outcome.error?.message ?? 'the call failed'}`;
        output.classList.add('failed');
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export function renderGroups(overview) {
  const firedBy = new Map(overview.streams.map((s) => [s.stream, s.fired]));
  const cards = overview.groups.map((g) =>
    h(
      'article',
      { class: 'card group', dataset: { group: g.group } },
      h('h3', {}, h('span', { class: 'mono' }, g.group), h('span', { class: 'on' }, ' on '), h('span', { class: 'mono' }, g.stream)),
      h(
        'div',
        { class: 'stats' },
        stat('pending', g.pending),
        stat('lag', g.lag ?? '?'),
        stat('read', g.entriesRead ?? '?'),
        stat('last delivered', g.lastDeliveredId),
      ),
      rateChart(
        [
          { label: 'fired', className: 'fired', points: firedBy.get(g.stream) ?? [] },
          { label: 'handled', className: 'handled', points: g.handled },
        ],
        RATE_WINDOW_MS,
      ),
      h(
        'table',
        { class: 'grid consumers' },
        h('thead', {}, h('tr', {}, h('th', {}, 'Consumer'), h('th', {}, 'Pending'), h('th', {}, 'Idle'), h('th', {}, 'Inactive'))),
        h(
          'tbody',
          {},
          g.consumers.map((c) => h('tr', {}, h('td', { class: 'mono' }, c.name), h('td', { class: 'num' }, c.pending), h('td', {}, duration(c.idleMs)), h('td', {}, duration(c.inactiveMs)))),
        ),
      ),
    ),
  );
  byId('group-cards').replaceChildren(...cards);
  byId('groups-empty').hidden = cards.length > 0;
  byId('count-groups').textContent = String(overview.groups.length);
  const streams = overview.streams.map((s) =>
    h(
      'tr',
      {},
      h('td', { class: 'mono' }, s.stream),
      h('td', {}, s.api),
      h('td', { class: 'num' }, s.length),
      h('td', { class: 'num' }, s.entriesAdded ?? '?'),
      h('td', { class: 'mono' }, s.lastId),
      h('td', {}, rateChart([{ label: 'fired', className: 'fired', points: s.fired }], RATE_WINDOW_MS)),
    ),
  );
  fillRows(byId('stream-rows'), streams);
  byId('streams-truncated').hidden = !overview.streamsTruncated;
  const queues = overview.queues.map((q) =>
    h('tr', {}, h('td', {}, q.api), h('td', { class: 'mono' }, q.key), h('td', { class: 'num' }, q.depth), h('td', {}, list(q.servedBy.map((s) => `${s.service} / ${s.process}`)))),
  );
  fillRows(byId('queue-rows'), queues);
}

function stat(label, value) {
  return h('div', { class: 'stat' }, h('span', { class: 'label' }, label), h('span', { class: 'value' }, value));
}

let shownDeadLetters = '';

export function renderDeadLetters(overview, actions) {
  const { count, newest } = overview.deadLetters;
  byId('count-dead-letters').textContent = count > 0 ? String(count) : '';
  byId('dead-letter-summary').textContent = count === 0 ? '' : `${count} dead letter${count === 1 ? '' : 's'} waiting${count > newest.length ? ` (the newest ${newest.length} shown)` : ''}.`;
  byId('replay-all').disabled = count === 0;
  const ids = newest.map((d) => d.id).join(',');
  if (ids === shownDeadLetters) return;
  shownDeadLetters = ids;
  const rows = newest.flatMap((d) => {
    const details = h('tr', { class: 'details', hidden: true }, h('td', { colspan: 6 }, h('pre', {}, json(d.malformed ? { stream: d.stream, streamId: d.streamId, malformed: d.malformed, fields: d.fields } : { stream: d.stream, streamId: d.streamId, messageId: d.messageId, params: d.params }))));
    const row = h(
      'tr',
      { class: 'dead-letter', dataset: { id: d.id } },
      h('td', { class: 'mono' }, d.id),
      h('td', {}, clock(d.time)),
      h('td', { class: 'mono' }, d.group),
      h('td', {}, d.api ? `${d.api}.${d.event}` : h('span', { class: 'badge badge-silent' }, 'unreadable')),
      h('td', { class: 'reason' }, d.reason),
      h(
        'td',
        { class: 'row-actions' },
        h('button', { onclick: () => (details.hidden = !details.hidden) }, 'Inspect'),
        h('button', { class: 'replay', onclick: () => actions.replay(d) }, 'Replay'),
        h('button', { class: 'danger delete', onclick: () => actions.remove(d) }, 'Delete'),
      ),
    );
    return [row, details];
  });
  fillRows(byId('dead-letter-rows'), rows, byId('dead-letters-empty'));
}

/** One event of the tail: a summary line that opens to its fields. */
export function eventItem(row) {
  const name = row.api ? `${row.api}.${row.event}` : 'unreadable entry';
  const body = row.malformed ? { malformed: row.malformed } : row.paramsOmitted ? { params: `(left out: ${row.paramsOmitted} characters of JSON)` } : row.params;
  return h(
    'li',
    { class: row.malformed ? 'event malformed' : 'event', dataset: { key: `${row.stream} ${row.streamId}` } },
    h(
      'details',
      {},
      h('summary', {}, h('time', { datetime: row.time }, clock(row.time)), h('span', { class: 'name' }, name), h('span', { class: 'mono id' }, row.id ?? row.streamId)),
      h('pre', {}, json(body)),
      h('p', { class: 'where mono' }, `${row.stream} ${row.streamId}${row.version !== undefined ? `, version ${row.version}` : ''}`),
    ),
  );
}
