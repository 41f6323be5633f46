// The page: one live stream of updates (server-sent events from /api/live), the tabs, the
// event tail and its filters, and the actions, which carry the dashboard's token.
import { byId, clock } from './dom.js';
import { eventItem, renderApiCards, renderApiServers, renderDeadLetters, renderGroups, renderProcesses } from './views.js';

const MAX_EVENTS_SHOWN = 500;
const TOKEN_KEY = 'lightbus-dashboard-token';

const state = { overview: undefined, schemas: {}, live: true, events: [] };

// The printed URL carries the token after '#': keep it for this tab, then take it out of the address bar.
const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token');
if (fromUrl) {
  sessionStorage.setItem(TOKEN_KEY, fromUrl);
  history.replaceState(null, '', location.pathname);
}
const token = () => sessionStorage.getItem(TOKEN_KEY) ?? '';

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (token()) headers.Authorization = `Bearer ${token()}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({ error: { name: 'Error', message: `HTTP ${response.status}` } }));
  if (response.status === 401) byId('token-needed').hidden = false;
  return { status: response.status, data };
}

function problem(message) {
  const el = byId('problem');
  el.textContent = message ?? '';
  el.hidden = !message;
}

// ---- tabs

function showTab(name) {
  for (const section of document.querySelectorAll('[data-view]')) section.hidden = section.id !== name;
  for (const button of document.querySelectorAll('#tabs button')) button.classList.toggle('active', button.dataset.tab === name);
  if (location.hash.slice(1) !== name) history.replaceState(null, '', `#${name}`);
}
for (const button of document.querySelectorAll('#tabs button')) button.addEventListener('click', () => showTab(button.dataset.tab));
const startTab = location.hash.slice(1);
showTab(document.getElementById(startTab)?.hasAttribute('data-view') ? startTab : 'processes');

// ---- confirmation

function confirmAction(text, okLabel) {
  const dialog = byId('confirm');
  byId('confirm-text').textContent = text;
  byId('confirm-ok').textContent = okLabel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

function showResult(text, failed = false) {
  const el = byId('dead-letter-result');
  el.textContent = text;
  el.className = failed ? 'result failed' : 'result ok';
  el.hidden = false;
}

// ---- actions

const actions = {
  async call(api, procedure, params) {
    const { data } = await request('POST', '/api/call', { api, procedure, params });
    return data.error && data.ok === undefined ? { ok: false, error: data.error } : data;
  },
  async replay(letter) {
    const allGroups = byId('replay-all-groups').checked;
    const { status, data } = await request('POST', `/api/dead-letters/${encodeURIComponent(letter.id)}/replay`, { allGroups });
    if (status === 200) showResult(`Replayed ${data.id} to ${data.group === null ? `every group of ${data.stream}` : `group ${data.group}`} (new entry ${data.streamId} in ${data.stream}).`);
    else showResult(`Not replayed: ${data.error?.message}`, true);
  },
  async remove(letter) {
    if (!(await confirmAction(`Delete dead letter ${letter.id} (${letter.api ? `${letter.api}.${letter.event}` : 'unreadable'}, group ${letter.group})? It cannot be replayed afterwards.`, 'Delete'))) return;
    const { status, data } = await request('DELETE', `/api/dead-letters/${encodeURIComponent(letter.id)}`);
    if (status === 200) showResult(`Deleted ${data.deleted}.`);
    else showResult(`Not deleted: ${data.error?.message}`, true);
  },
};

byId('replay-all').addEventListener('click', async () => {
  const count = state.overview?.deadLetters.count ?? 0;
  const allGroups = byId('replay-all-groups').checked;
  if (!(await confirmAction(`Replay all ${count} dead letters ${allGroups ? 'to every group of their streams' : 'to the groups that gave up on them'}? Listeners get each event again.`, 'Replay all'))) return;
  const { status, data } = await request('POST', '/api/dead-letters/replay-all', { confirm: 'replay-all', allGroups });
  if (status !== 200) return showResult(`Not replayed: ${data.error?.message}`, true);
  const failures = data.failed.map((f) => `${f.id}: ${f.error}`).join('\n');
  showResult(`Replayed ${data.replayed.length}; ${data.failed.length} refused; ${data.left} left.${failures ? `\n${failures}` : ''}`, data.failed.length > 0);
});

byId('token-save').addEventListener('click', () => {
  sessionStorage.setItem(TOKEN_KEY, byId('token-input').value.trim());
  byId('token-needed').hidden = true;
  connect();
});

// ---- events: the live tail and the history search

function eventFilter() {
  const form = new FormData(byId('event-filter'));
  return { api: String(form.get('api') ?? '').trim(), event: String(form.get('event') ?? '').trim(), since: String(form.get('since') ?? '').trim(), until: String(form.get('until') ?? '').trim() };
}

function glob(text) {
  if (text === '' || text === '*') return () => true;
  const re = new RegExp(`^${[...text].map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'))).join('')}$`);
  return (value) => re.test(value ?? '');
}

/** The same filter the server applies, for events arriving live (times are checked by the server's search only). */
function liveMatcher() {
  const f = eventFilter();
  const api = glob(f.api);
  const event = glob(f.event);
  const since = f.since && /^\d{4}-/.test(f.since) ? Date.parse(f.since) : undefined;
  return (row) => (row.malformed ? f.event === '' : api(row.api) && event(row.event)) && (since === undefined || Date.parse(row.time) >= since);
}

function renderEvents() {
  const matches = liveMatcher();
  const shown = state.live ? state.events.filter(matches) : state.events;
  byId('event-list').replaceChildren(...shown.slice(0, MAX_EVENTS_SHOWN).map(eventItem));
  byId('events-empty').hidden = shown.length > 0;
}

function addLiveEvent(row) {
  const key = `${row.stream} ${row.streamId}`;
  if (state.events.some((e) => `${e.stream} ${e.streamId}` === key)) return;
  state.events.unshift(row);
  state.events.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
  if (state.events.length > MAX_EVENTS_SHOWN) state.events.length = MAX_EVENTS_SHOWN;
  if (!state.live || byId('event-pause').checked) return;
  const matches = liveMatcher();
  if (!matches(row)) return;
  byId('event-list').prepend(eventItem(row));
  byId('events-empty').hidden = true;
  const list = byId('event-list');
  while (list.children.length > MAX_EVENTS_SHOWN) list.lastElementChild.remove();
}

const liveEvents = [];
byId('event-filter').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = eventFilter();
  const query = new URLSearchParams(Object.entries({ ...f, limit: '200' }).filter(([, v]) => v !== ''));
  const { status, data } = await request('GET', `/api/events?${query}`);
  if (status !== 200) return problem(`Search failed: ${data.error?.message}`);
  problem();
  if (state.live) liveEvents.splice(0, liveEvents.length, ...state.events);
  state.live = false;
  state.events = data;
  byId('event-mode').textContent = `History: ${data.length} matching event${data.length === 1 ? '' : 's'}, newest first (live updates paused).`;
  renderEvents();
});
byId('event-live').addEventListener('click', () => {
  if (!state.live) state.events = liveEvents.splice(0);
  state.live = true;
  byId('event-mode').textContent = 'Live: new events appear at the top.';
  renderEvents();
});
for (const input of byId('event-filter').querySelectorAll('input[name]')) input.addEventListener('input', () => state.live && renderEvents());
byId('event-pause').addEventListener('change', () => renderEvents());

// ---- the live stream

let source;
async function connect() {
  source?.close();
  const access = await request('GET', '/api/access');
  const needsToken = access.data.readsNeedToken === true;
  source = new EventSource(needsToken ? `/api/live?token=${encodeURIComponent(token())}` : '/api/live');
  source.addEventListener('open', () => (byId('status').textContent = 'live'));
  source.addEventListener('error', () => (byId('status').textContent = 'reconnecting…'));
  source.addEventListener('schemas', (e) => {
    state.schemas = JSON.parse(e.data);
    renderApiCards(state.schemas, state.overview, actions);
  });
  source.addEventListener('overview', (e) => {
    const overview = JSON.parse(e.data);
    state.overview = overview;
    problem();
    byId('status').textContent = `live · ${clock(overview.at)}`;
    renderProcesses(overview);
    renderApiServers(overview, state.schemas, actions);
    renderGroups(overview);
    renderDeadLetters(overview, actions);
  });
  source.addEventListener('event', (e) => {
    const row = JSON.parse(e.data);
    if (state.live) addLiveEvent(row);
    else if (!liveEvents.some((x) => x.stream === row.stream && x.streamId === row.streamId)) liveEvents.unshift(row);
  });
  source.addEventListener('problem', (e) => problem(JSON.parse(e.data).message));
}

connect();
