// FDB's dashboard. Everything it shows comes from two calls (src/http/dashboard.h):
// GET /api/stats every second for the charts, and POST /api/command, which runs one Redis
// command as the logged-in user (so that user's ACL decides what the page may do).
//
// Safety: every key, value and reply is put into the page with textContent or as a text node,
// never as markup; the page's Content-Security-Policy allows no inline script either.
'use strict';

const state = { csrf: '', user: null, loginRequired: false, last: null, timer: null };
const $ = (id) => document.getElementById(id);

// ---- API -------------------------------------------------------------------------------

class ApiError extends Error {}

async function api(path, body) {
  const opts = { credentials: 'same-origin' };
  if (body !== undefined) {
    opts.method = 'POST';
    opts.headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': state.csrf };
    opts.body = JSON.stringify(body);
  }
  const res = await fetch(path, opts);
  let data;
  try {
    data = await res.json();
  } catch (e) {
    data = { error: 'HTTP ' + res.status };
  }
  if (res.status === 401 && path !== '/api/login') {
    showLogin(data.error || 'not logged in');
  }
  if (!res.ok) throw new ApiError(data.error || 'HTTP ' + res.status);
  return data;
}

const isError = (v) => v !== null && typeof v === 'object' && !Array.isArray(v) && 'error' in v;

// One command's reply, as JSON (http/resp_json.h); an error reply is thrown.
async function run(...argv) {
  const { reply } = await api('/api/command', { argv });
  if (isError(reply)) throw new ApiError(reply.error);
  return reply;
}

// A reply's string as text to show: bytes that are not UTF-8 come as {b64}, shown escaped.
function text(v) {
  if (v === null || v === undefined) return '(nil)';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v.b64 !== undefined) {
    const bytes = atob(v.b64);
    let s = '';
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes.charCodeAt(i);
      s += c >= 32 && c < 127 && c !== 92 ? bytes[i] : '\\x' + c.toString(16).padStart(2, '0');
    }
    return s;
  }
  if (v.int !== undefined) return v.int;
  if (v.double !== undefined) return v.double;
  return JSON.stringify(v);
}

// An element with text content (never markup).
function el(tag, content, cls) {
  const e = document.createElement(tag);
  if (content !== undefined && content !== null) e.textContent = content;
  if (cls) e.className = cls;
  return e;
}

function showError(id, err) {
  $(id).textContent = err ? String(err.message || err) : '';
}

// ---- Login -------------------------------------------------------------------------------

function showLogin(message) {
  stopPolling();
  $('app').hidden = true;
  $('login').hidden = false;
  $('user-box').hidden = true;
  $('show-login').hidden = true;
  $('login-error').textContent = message && message !== 'not logged in' ? message : '';
}

async function startSession(reply) {
  state.csrf = reply.csrf;
  state.user = reply.user;
  $('user-name').textContent = reply.user;
  $('user-box').hidden = false;
  $('show-login').hidden = state.loginRequired;
  $('login').hidden = true;
  $('app').hidden = false;
  startPolling();
}

async function boot() {
  const s = await api('/api/session');
  state.loginRequired = s.login_required;
  if (s.user !== null) return startSession(s);
  if (s.login_required) return showLogin();
  // No password for the default user: the page works as it, as redis-cli would.
  return startSession(await api('/api/login', {}));
}

$('login-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  try {
    const r = await api('/api/login', { user: $('login-user').value,
                                        password: $('login-password').value });
    $('login-password').value = '';
    $('login-error').textContent = '';
    await startSession(r);
  } catch (e) {
    showError('login-error', e);
  }
});

$('logout').addEventListener('click', async () => {
  try { await api('/api/logout', {}); } catch (e) { /* the session is gone either way */ }
  state.csrf = '';
  showLogin();
});
$('show-login').addEventListener('click', () => showLogin());

// ---- Charts --------------------------------------------------------------------------------

const WINDOW = 60;  // seconds shown
const COLORS = ['#2f6fde', '#e0762b', '#2a9d55', '#9b4dca', '#c23b5a', '#1b9aaa'];

function bytes(n) {
  if (n === null || n === undefined || isNaN(n)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(Math.round(n))) + ' ' + units[i];
}
const num = (n) => (n === null || isNaN(n) ? '–' : n >= 100 ? String(Math.round(n)) :
                    String(Math.round(n * 10) / 10));
const micros = (n) => (n === null || isNaN(n) ? '–' : n >= 1000 ? (n / 1000).toFixed(1) + ' ms' :
                       Math.round(n) + ' µs');

class Chart {
  constructor(id, title, names, format) {
    this.id = id;
    this.names = names;
    this.format = format;
    this.data = names.map(() => []);
    const box = el('div', null, 'chart');
    box.id = 'chart-' + id;
    const head = el('div', null, 'chart-head');
    head.append(el('span', title, 'chart-title'));
    this.value = el('span', '–', 'chart-value');
    this.value.id = 'value-' + id;
    head.append(this.value);
    this.canvas = el('canvas');
    this.canvas.width = 560;
    this.canvas.height = 180;
    this.legend = el('div', null, 'legend');
    box.append(head, this.canvas, this.legend);
    $('charts').append(box);
    this.drawLegend();
  }

  drawLegend() {
    this.legend.textContent = '';
    this.names.forEach((n, i) => {
      const s = el('span');
      const sw = el('i');
      sw.style.background = COLORS[i % COLORS.length];
      s.append(sw, document.createTextNode(n));
      this.legend.append(s);
    });
  }

  // Series names may change (keys per database): the data follows them by name.
  setNames(names) {
    if (names.join('\n') === this.names.join('\n')) return;
    const old = new Map(this.names.map((n, i) => [n, this.data[i]]));
    this.names = names;
    this.data = names.map((n) => old.get(n) || []);
    this.drawLegend();
  }

  push(values) {
    values.forEach((v, i) => {
      this.data[i].push(v);
      if (this.data[i].length > WINDOW) this.data[i].shift();
    });
    this.value.textContent = values.map((v) => this.format(v)).join(' / ');
    this.draw();
  }

  draw() {
    const c = this.canvas.getContext('2d');
    const w = this.canvas.width, h = this.canvas.height, pad = 4, left = 70;
    c.clearRect(0, 0, w, h);
    let max = 0;
    for (const s of this.data) for (const v of s) if (v !== null && v > max) max = v;
    if (max === 0) max = 1;
    max *= 1.1;
    c.font = '20px system-ui, sans-serif';
    c.fillStyle = '#6b7385';
    c.strokeStyle = '#e9ecf1';
    c.lineWidth = 1;
    for (let i = 0; i <= 2; i++) {
      const y = pad + (h - 2 * pad) * i / 2;
      c.beginPath();
      c.moveTo(left, y);
      c.lineTo(w, y);
      c.stroke();
      c.fillText(this.format(max * (1 - i / 2)), 2, Math.min(h - 4, y + 18));
    }
    const step = (w - left) / (WINDOW - 1);
    this.data.forEach((s, i) => {
      c.strokeStyle = COLORS[i % COLORS.length];
      c.lineWidth = 3;
      c.beginPath();
      let started = false;
      const x0 = w - (s.length - 1) * step;
      s.forEach((v, k) => {
        if (v === null) { started = false; return; }
        const x = x0 + k * step, y = h - pad - (h - 2 * pad) * v / max;
        if (started) c.lineTo(x, y); else c.moveTo(x, y);
        started = true;
      });
      c.stroke();
    });
  }
}

let charts = null;
function makeCharts() {
  charts = {
    ops: new Chart('ops', 'ops/s', ['commands/s'], num),
    latency: new Chart('latency', 'latency p50 / p99', ['p50', 'p99'], micros),
    memory: new Chart('memory', 'memory', ['used', 'RSS'], bytes),
    cache: new Chart('cache', 'RAM cache bytes', ['cache bytes'], bytes),
    hits: new Chart('hits', 'hit ratio %', ['RAM cache', 'keyspace'], num),
    keys: new Chart('keys', 'keys per database', ['db0'], num),
    clients: new Chart('clients', 'clients', ['connected', 'blocked'], num),
    fsync: new Chart('fsync', 'fsyncs/s', ['fsyncs/s'], num),
    fsyncLatency: new Chart('fsync-latency', 'fsync latency avg / p99', ['avg', 'p99'], micros),
    disk: new Chart('disk', 'disk', ['log', 'live'], bytes),
    compactions: new Chart('compactions', 'compactions', ['total'], num),
  };
}

// The p-th quantile of a histogram's difference (bucket b: at most 2^b µs), as the bucket's
// upper bound; null with no calls.
function quantile(now, before, p) {
  const d = now.map((v, i) => v - (before ? before[i] : 0));
  const total = d.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  let seen = 0;
  for (let b = 0; b < d.length; b++) {
    seen += d[b];
    if (seen >= p * total) return 2 ** b;
  }
  return 2 ** (d.length - 1);
}

function update(s) {
  const prev = state.last;
  const dt = prev ? (s.now_ms - prev.now_ms) / 1000 : 0;
  const rate = (a, b) => (prev && dt > 0 ? Math.max(0, (a - b) / dt) : null);
  charts.ops.push([rate(s.commands_processed, prev && prev.commands_processed)]);
  const lh = prev ? prev.latency_hist_us : null;
  charts.latency.push([quantile(s.latency_hist_us, lh, 0.5), quantile(s.latency_hist_us, lh, 0.99)]);
  charts.memory.push([s.memory.used, s.memory.rss]);
  charts.cache.push([s.cache.bytes]);
  // Of the values read, those found in RAM (the rest read back from disk); of the keys looked
  // up, those that existed. Null in a second without either.
  const ratio = (h, m) => (h + m > 0 ? 100 * h / (h + m) : null);
  charts.hits.push(prev ? [ratio(s.cache.hits - prev.cache.hits, s.cache.misses - prev.cache.misses),
                           ratio(s.keyspace_hits - prev.keyspace_hits,
                                 s.keyspace_misses - prev.keyspace_misses)] : [null, null]);
  const dbs = s.dbs.length ? s.dbs : [{ db: 0, keys: 0 }];
  charts.keys.setNames(dbs.map((d) => 'db' + d.db));
  charts.keys.push(dbs.map((d) => d.keys));
  charts.clients.push([s.clients.connected, s.clients.blocked]);
  const ps = s.persistence, pp = prev && prev.persistence;
  charts.fsync.push([rate(ps.fsyncs, pp && pp.fsyncs)]);
  let avg = null;
  if (pp) {
    const n = ps.fsync_hist_us.reduce((a, b) => a + b, 0) - pp.fsync_hist_us.reduce((a, b) => a + b, 0);
    avg = n > 0 ? (ps.fsync_us_total - pp.fsync_us_total) / n : null;
  }
  charts.fsyncLatency.push([avg, quantile(ps.fsync_hist_us, pp && pp.fsync_hist_us, 0.99)]);
  charts.disk.push([ps.log_bytes, ps.live_bytes]);
  charts.compactions.push([ps.compactions]);
  fillDbs(s.databases);
  $('server-info').textContent = 'fdb ' + s.version + ' · ' + s.role + ' · up ' + s.uptime_s +
      ' s' + (ps.enabled ? '' : ' · no persistence') + (ps.healthy ? '' : ' · LOG FAILED');
  state.last = s;
}

async function poll() {
  try {
    update(await api('/api/stats'));
  } catch (e) {
    $('server-info').textContent = 'stats: ' + e.message;
  }
  if (!$('tab-slowlog').hidden) refreshSlowlog();
  if (!$('tab-clients').hidden) refreshClients();
}

function startPolling() {
  if (!charts) makeCharts();
  stopPolling();
  state.last = null;
  poll();
  state.timer = setInterval(poll, 1000);
}
function stopPolling() {
  if (state.timer) clearInterval(state.timer);
  state.timer = null;
}

// ---- Tabs ----------------------------------------------------------------------------------

document.querySelectorAll('#tabs button').forEach((b) => b.addEventListener('click', () => {
  document.querySelectorAll('#tabs button').forEach((o) => o.classList.toggle('active', o === b));
  document.querySelectorAll('.tab').forEach((t) => { t.hidden = t.id !== 'tab-' + b.dataset.tab; });
  if (b.dataset.tab === 'slowlog') refreshSlowlog();
  if (b.dataset.tab === 'clients') refreshClients();
  if (b.dataset.tab === 'console') $('console-input').focus();
}));

// ---- Key browser ---------------------------------------------------------------------------

const PAGE = 100;
const keys = { cursor: '0', key: null, type: null, page: null };

// The database selector, once the first figures tell how many there are.
function fillDbs(n) {
  const sel = $('scan-db');
  if (sel.options.length === n) return;
  sel.textContent = '';
  for (let i = 0; i < Math.min(n, 256); i++) sel.append(el('option', String(i)));
}

$('scan-db').addEventListener('change', async () => {
  try {
    await run('SELECT', $('scan-db').value);
    showError('keys-error', null);
    scan(true);
  } catch (e) {
    showError('keys-error', e);
  }
});

async function scan(fresh) {
  if (fresh) {
    keys.cursor = '0';
    $('key-list').textContent = '';
  }
  // SCAN pages through the whole keyspace, matching or not: go on until a page's worth matched
  // or 20 calls were made (each one bounded, so the server is never held long).
  const found = [];
  try {
    for (let calls = 0; calls < 20 && found.length < PAGE; calls++) {
      const argv = ['SCAN', keys.cursor, 'MATCH', $('scan-pattern').value || '*', 'COUNT', '1000'];
      if ($('scan-type').value) argv.push('TYPE', $('scan-type').value);
      const [cursor, page] = await run(...argv);
      keys.cursor = text(cursor);
      found.push(...page);
      if (keys.cursor === '0') break;
    }
    for (const k of found) {
      const li = el('li', text(k));
      li.addEventListener('click', () => {
        document.querySelectorAll('#key-list li').forEach((o) => o.classList.remove('selected'));
        li.classList.add('selected');
        openKey(k);
      });
      $('key-list').append(li);
    }
    $('scan-more').disabled = keys.cursor === '0';
    $('scan-status').textContent = $('key-list').children.length + ' keys' +
        (keys.cursor === '0' ? ' (scan complete)' : ' so far');
    showError('keys-error', null);
  } catch (e) {
    showError('keys-error', e);
  }
}
$('scan-form').addEventListener('submit', (ev) => { ev.preventDefault(); scan(true); });
$('scan-more').addEventListener('click', () => scan(false));

// What each type shows, one page at a time: its length command, and how a page is read.
// `page` is the type's position: an index (list, zset), a cursor (hash, set), a stream ID.
const TYPES = {
  string: { len: 'STRLEN', first: 0 },
  list: { len: 'LLEN', first: 0 },
  hash: { len: 'HLEN', first: '0' },
  set: { len: 'SCARD', first: '0' },
  zset: { len: 'ZCARD', first: 0 },
  stream: { len: 'XLEN', first: '-' },
};

async function openKey(k) {
  keys.key = k;
  keys.history = [];
  $('key-detail').hidden = false;
  $('key-name').textContent = text(k);
  showError('key-error', null);
  for (const id of ['key-type', 'key-ttl', 'key-size', 'key-encoding', 'key-length']) {
    $(id).textContent = '…';
  }
  try {
    keys.type = text(await run('TYPE', k));
    $('key-type').textContent = keys.type;
    if (keys.type === 'none') throw new ApiError('the key does not exist (any more)');
    const pttl = await run('PTTL', k);
    $('key-ttl').textContent = pttl < 0 ? 'none' : (pttl / 1000).toFixed(1) + ' s';
    $('key-size').textContent = bytes(await run('MEMORY', 'USAGE', k));
    $('key-encoding').textContent = text(await run('OBJECT', 'ENCODING', k));
    const t = TYPES[keys.type];
    if (t) $('key-length').textContent = String(await run(t.len, k));
    keys.page = t ? t.first : null;
    await showPage();
  } catch (e) {
    showError('key-error', e);
  }
}

function table(headers, rows) {
  const t = el('table', null, 'grid');
  const tr = el('tr');
  headers.forEach((h) => tr.append(el('th', h)));
  const head = el('thead');
  head.append(tr);
  const body = el('tbody');
  rows.forEach((r) => {
    const row = el('tr');
    r.forEach((c) => row.append(el('td', c)));
    body.append(row);
  });
  t.append(head, body);
  return t;
}

// Reads the page at keys.page; sets keys.next (null: the last page) and renders it.
async function showPage() {
  const k = keys.key, p = keys.page;
  const box = $('key-value');
  const form = el('div');
  form.id = 'value-' + keys.type;
  form.dataset.type = keys.type;
  let label = '';
  switch (keys.type) {
    case 'string': {
      const v = await run('GETRANGE', k, String(p), String(p + 64 * 1024 - 1));
      const s = text(v);
      form.append(el('div', s, 'string-value'));
      const len = parseInt($('key-length').textContent, 10);
      keys.next = p + 64 * 1024 < len ? p + 64 * 1024 : null;
      label = 'bytes ' + p + '–' + (p + s.length);
      break;
    }
    case 'list': {
      const items = await run('LRANGE', k, String(p), String(p + PAGE - 1));
      form.append(table(['index', 'element'], items.map((v, i) => [String(p + i), text(v)])));
      keys.next = items.length === PAGE ? p + PAGE : null;
      label = 'elements ' + p + '–' + (p + items.length - 1);
      break;
    }
    case 'hash': {
      const [cursor, flat] = await run('HSCAN', k, p, 'COUNT', String(PAGE));
      const rows = [];
      for (let i = 0; i + 1 < flat.length; i += 2) rows.push([text(flat[i]), text(flat[i + 1])]);
      form.append(table(['field', 'value'], rows));
      keys.next = text(cursor) === '0' ? null : text(cursor);
      label = 'HSCAN cursor ' + p;
      break;
    }
    case 'set': {
      const [cursor, members] = await run('SSCAN', k, p, 'COUNT', String(PAGE));
      form.append(table(['member'], members.map((m) => [text(m)])));
      keys.next = text(cursor) === '0' ? null : text(cursor);
      label = 'SSCAN cursor ' + p;
      break;
    }
    case 'zset': {
      const r = await run('ZRANGE', k, String(p), String(p + PAGE - 1), 'WITHSCORES');
      // RESP3: [[member, score], ...]; the flat RESP2 form is taken too.
      const rows = Array.isArray(r[0]) ? r.map(([m, s]) => [text(m), text(s)]) :
          r.reduce((a, v, i) => (i % 2 ? a[a.length - 1].push(text(v)) : a.push([text(v)]), a), []);
      form.append(table(['rank', 'member', 'score'], rows.map((x, i) => [String(p + i), ...x])));
      keys.next = rows.length === PAGE ? p + PAGE : null;
      label = 'ranks ' + p + '–' + (p + rows.length - 1);
      break;
    }
    case 'stream': {
      const entries = await run('XRANGE', k, p, '+', 'COUNT', String(PAGE));
      const rows = entries.map(([id, fields]) => {
        const parts = [];
        for (let i = 0; i + 1 < fields.length; i += 2) {
          parts.push(text(fields[i]) + ' = ' + text(fields[i + 1]));
        }
        return [text(id), parts.join('\n')];
      });
      form.append(table(['id', 'fields'], rows));
      keys.next = entries.length === PAGE ? '(' + text(entries[entries.length - 1][0]) : null;
      label = 'from ' + p;
      break;
    }
    default:
      form.append(el('p', 'no view for type ' + keys.type, 'muted'));
      keys.next = null;
  }
  box.replaceChildren(form);  // the old page stays until the new one is read
  $('key-page').textContent = label;
  $('key-next').disabled = keys.next === null;
  $('key-prev').disabled = keys.history.length === 0;
}

$('key-next').addEventListener('click', async () => {
  if (keys.next === null) return;
  keys.history.push(keys.page);
  keys.page = keys.next;
  try { await showPage(); } catch (e) { showError('key-error', e); }
});
$('key-prev').addEventListener('click', async () => {
  if (!keys.history.length) return;
  keys.page = keys.history.pop();
  try { await showPage(); } catch (e) { showError('key-error', e); }
});
$('key-delete').addEventListener('click', async () => {
  if (!confirm('Delete the key ' + text(keys.key) + '?')) return;
  try {
    await run('DEL', keys.key);
    $('key-detail').hidden = true;
    document.querySelectorAll('#key-list li.selected').forEach((li) => li.remove());
  } catch (e) {
    showError('key-error', e);
  }
});

// ---- Slow log ------------------------------------------------------------------------------

async function refreshSlowlog() {
  try {
    const entries = await run('SLOWLOG', 'GET', '50');
    const body = $('slowlog-table').tBodies[0];
    body.textContent = '';
    for (const e of entries) {
      const tr = el('tr');
      const when = new Date(Number(e[1]) * 1000).toLocaleTimeString();
      [String(e[0]), when, String(e[2]), e[3].map(text).join(' '), text(e[4])].forEach(
          (c) => tr.append(el('td', c)));
      body.append(tr);
    }
    showError('slowlog-error', null);
  } catch (e) {
    showError('slowlog-error', e);
  }
}
$('slowlog-refresh').addEventListener('click', refreshSlowlog);
$('slowlog-reset').addEventListener('click', async () => {
  try { await run('SLOWLOG', 'RESET'); } catch (e) { showError('slowlog-error', e); return; }
  refreshSlowlog();
});

// ---- Clients -------------------------------------------------------------------------------

async function refreshClients() {
  try {
    const list = text(await run('CLIENT', 'LIST'));
    const body = $('clients-table').tBodies[0];
    body.textContent = '';
    for (const line of list.split('\n')) {
      if (!line.trim()) continue;
      const f = {};
      for (const part of line.split(' ')) {
        const eq = part.indexOf('=');
        if (eq > 0) f[part.slice(0, eq)] = part.slice(eq + 1);
      }
      const tr = el('tr');
      tr.dataset.id = f.id;
      [f.id, f.addr, f.name, f.user, f.db, f.age, f.idle, f.cmd, f['lib-name']].forEach(
          (c) => tr.append(el('td', c || '')));
      const kill = el('button', 'Kill', 'danger');
      kill.type = 'button';
      kill.addEventListener('click', async () => {
        if (!confirm('Kill client ' + f.id + ' (' + f.addr + ')?')) return;
        try {
          await run('CLIENT', 'KILL', 'ID', f.id);
          refreshClients();
        } catch (e) {
          showError('clients-error', e);
        }
      });
      const td = el('td');
      td.append(kill);
      tr.append(td);
      body.append(tr);
    }
    showError('clients-error', null);
  } catch (e) {
    showError('clients-error', e);
  }
}
$('clients-refresh').addEventListener('click', refreshClients);

// ---- Console -------------------------------------------------------------------------------

// Splits a line as redis-cli does: spaces separate, "..." takes \n \t \" \\ \xHH, '...' is
// literal. Returns null for unbalanced quotes.
function splitArgs(line) {
  const out = [];
  let i = 0;
  while (i < line.length) {
    while (i < line.length && /\s/.test(line[i])) i++;
    if (i >= line.length) break;
    let cur = '';
    while (i < line.length && !/\s/.test(line[i])) {
      const q = line[i];
      if (q === '"' || q === "'") {
        i++;
        let closed = false;
        while (i < line.length) {
          const c = line[i];
          if (c === q) { closed = true; i++; break; }
          if (q === '"' && c === '\\' && i + 1 < line.length) {
            const n = line[i + 1];
            if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(line.substr(i + 2, 2))) {
              cur += String.fromCharCode(parseInt(line.substr(i + 2, 2), 16));
              i += 4;
              continue;
            }
            cur += { n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' }[n] || n;
            i += 2;
            continue;
          }
          cur += c;
          i++;
        }
        if (!closed) return null;
      } else {
        cur += q;
        i++;
      }
    }
    out.push(cur);
  }
  return out;
}

// A reply as redis-cli prints it.
function format(v, indent) {
  indent = indent || '';
  if (v === null) return '(nil)';
  // Text of several lines (INFO, CLIENT LIST: RESP3 verbatim strings) as its lines, as redis-cli
  // prints it; other strings quoted.
  if (typeof v === 'string') return /\n/.test(v) ? v.replace(/\r\n/g, '\n') : JSON.stringify(v);
  if (typeof v === 'number') return '(integer) ' + v;
  if (typeof v === 'boolean') return v ? '(true)' : '(false)';
  if (Array.isArray(v)) {
    if (!v.length) return '(empty array)';
    const w = String(v.length).length;
    return v.map((x, i) => (i ? indent : '') + String(i + 1).padStart(w) + ') ' +
        format(x, indent + ' '.repeat(w + 2))).join('\n');
  }
  if (v.error !== undefined) return '(error) ' + v.error;
  if (v.int !== undefined) return '(integer) ' + v.int;
  if (v.double !== undefined) return '(double) ' + v.double;
  if (v.b64 !== undefined) return '"' + text(v) + '"';
  if (v.map !== undefined) {
    if (!v.map.length) return '(empty hash)';
    const w = String(v.map.length).length;
    return v.map.map(([k, x], i) => (i ? indent : '') + String(i + 1).padStart(w) + '# ' +
        format(k, indent) + ' => ' + format(x, indent + ' '.repeat(w + 2))).join('\n');
  }
  return JSON.stringify(v);
}

const history = [];
let historyAt = 0;
$('console-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const line = $('console-input').value;
  if (!line.trim()) return;
  history.push(line);
  historyAt = history.length;
  $('console-input').value = '';
  const out = $('console-output');
  out.append(document.createTextNode('> ' + line + '\n'));
  const argv = splitArgs(line);
  let shown;
  if (argv === null) {
    shown = '(error) Invalid argument(s): unbalanced quotes';
  } else {
    try {
      const { reply } = await api('/api/command', { argv });
      shown = format(reply);
      // The key browser follows the session's database.
      if (argv[0].toLowerCase() === 'select' && reply === 'OK') $('scan-db').value = argv[1];
    } catch (e) {
      shown = '(error) ' + e.message;
    }
  }
  out.append(document.createTextNode(shown + '\n'));
  out.scrollTop = out.scrollHeight;
});
$('console-input').addEventListener('keydown', (ev) => {
  if (ev.key === 'ArrowUp' && historyAt > 0) {
    $('console-input').value = history[--historyAt];
    ev.preventDefault();
  } else if (ev.key === 'ArrowDown' && historyAt < history.length) {
    historyAt++;
    $('console-input').value = historyAt < history.length ? history[historyAt] : '';
    ev.preventDefault();
  }
});

boot().catch((e) => showLogin(e.message));
