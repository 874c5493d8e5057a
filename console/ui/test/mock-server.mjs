// Tiny static + canned-JSON server for looking at the console UI without the
// real `sen` API. Listens on 127.0.0.1 only. No npm packages.
//
//   node console/ui/test/mock-server.mjs [port]     (port 0 / omitted = random)
//
// Prints `listening http://127.0.0.1:PORT/` on stdout. The canned data
// deliberately contains hostile strings (markup, script breakers, quotes,
// backslashes, bidi overrides) so a screenshot shows they render as text.
//
// Query behaviours, to exercise the UI:
//   q containing `((` or ending in AND/OR/NOT → HTTP 400 syntax error with position
//   q = `nothing`                             → zero hits
//   q containing `boom`                       → HTTP 500 on /search (and /alerts)
//
// Alerts: 12 canned alerts (alert 0 carries hostile strings) with working
// status/assign/comment routes and a live stream; `server.alerts.push(alert)`
// publishes one to every open stream. Run directly, it pushes a new alert
// every 20 s so the live list can be watched.

import http from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; frame-ancestors 'none'";

export const HOSTILE = Object.freeze({
  img: '<img src=x onerror=alert(1)>',
  breakout: '"; alert(1); "',
  script: '</script><script>alert(document.domain)</script>',
  quoteBackslash: 'C:\\Users\\"admin"\\Desktop',
  bidi: 'invoice\u202Etxt.exe',
  svg: '<svg onload=alert(1)>',
  jsUrl: 'javascript:alert(1)',
});

const HOSTS = ['web01', 'web02', 'db-core-01', 'mail.dongthap.gov.vn', 'dc01', HOSTILE.breakout];
const ORGS = ['stttt', 'sgtvt', 'syt', 'ubnd-cl', HOSTILE.img];
const CATS = [['authentication'], ['network'], ['process'], ['web'], ['authentication', 'iam'], ['file']];
const OUTCOMES = ['success', 'failure', 'unknown', 'success', 'failure'];
const PROCS = ['sshd', 'nginx', 'powershell.exe', 'postfix', 'svchost.exe'];
const MSGS = [
  'Failed password for invalid user admin from 203.0.113.45 port 52144 ssh2',
  'Accepted publickey for deploy from 10.20.1.5 port 40022 ssh2',
  'GET /cong-dich-vu/ho-so?id=1%27%20OR%201=1-- HTTP/1.1 403',
  'New process: powershell.exe -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA',
  'postfix/smtpd: NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 554 5.7.1 Relay access denied',
  `User-Agent: ${HOSTILE.img}`,
  `Login name ${HOSTILE.breakout} rejected`,
  `Path ${HOSTILE.quoteBackslash} opened; attachment ${HOSTILE.bidi}`,
];

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick(rand, list) {
  return list[Math.floor(rand() * list.length)];
}

function makeHit(i, ts) {
  const rand = mulberry32(i * 7919 + 13);
  const host = pick(rand, HOSTS);
  const msg = MSGS[i % MSGS.length];
  const ip = `203.0.113.${Math.floor(rand() * 254) + 1}`;
  const hit = {
    '@timestamp': ts.toISOString(),
    'event.id': `evt-${String(100000 + i)}`,
    'organization.id': pick(rand, ORGS),
    'host.name': host,
    message: msg,
    'event.original': `<${Math.floor(rand() * 190)}>1 ${ts.toISOString()} ${host} ${pick(rand, PROCS)} - - ${msg}`,
    'source.ip': ip,
    'event.category': pick(rand, CATS),
    'event.outcome': pick(rand, OUTCOMES),
    'process.name': pick(rand, PROCS),
    'event.dataset': 'syslog',
    'ecs.version': '8.11.0',
  };
  if (i === 0) {
    // The first event carries every hostile variant, including in keys.
    hit.message = `${HOSTILE.img} ${HOSTILE.script}`;
    hit['event.original'] = `${HOSTILE.script}\n${HOSTILE.img}\n${HOSTILE.breakout}\n${HOSTILE.quoteBackslash}\n${HOSTILE.bidi}`;
    hit['host.name'] = HOSTILE.breakout;
    hit['organization.id'] = HOSTILE.img;
    hit['user.name'] = HOSTILE.quoteBackslash;
    hit['url.original'] = HOSTILE.jsUrl;
    hit[`x.${HOSTILE.svg}`] = 'hostile key';
    hit['event.risk_score'] = 73;
    hit['threat.indicator'] = { type: 'ipv4-addr', confidence: 'high' };
    hit.labels = { empty: '' };
    hit['related.ip'] = ['203.0.113.45', '10.20.1.5'];
    hit['event.outcome'] = 'failure';
  }
  return hit;
}

function syntaxError(q) {
  const t = q.trim();
  const unbalanced = q.indexOf('((');
  if (unbalanced >= 0) return { error: `syntax error at position ${unbalanced + 1}: unbalanced '('`, position: unbalanced + 1 };
  if (/\b(AND|OR|NOT)$/.test(t)) return { error: `syntax error at position ${t.length}: unexpected end of query after operator`, position: t.length };
  return null;
}

function range(params) {
  const to = Date.parse(params.get('to') || '') || Date.now();
  const from = Date.parse(params.get('from') || '') || to - 86_400_000;
  return { from, to };
}

const TOTAL = 1234;

function search(params) {
  const q = params.get('q') || '';
  const err = syntaxError(q);
  if (err) return [400, err];
  if (q.includes('boom')) return [500, { error: 'internal: storage segment unavailable' }];
  if (q.trim() === 'nothing') return [200, { total: 0, took_ms: 1, hits: [] }];
  const { from, to } = range(params);
  const limit = Math.min(Number(params.get('limit')) || 50, 500);
  const offset = Number(params.get('offset')) || 0;
  const total = q ? 187 : TOTAL;
  const step = (to - from) / total;
  const hits = [];
  for (let i = offset; i < Math.min(offset + limit, total); i++) {
    hits.push(makeHit(i, new Date(to - 1000 - i * step)));
  }
  return [200, { total, took_ms: 3 + (offset % 7), hits }];
}

function histogram(params) {
  const q = params.get('q') || '';
  const err = syntaxError(q);
  if (err) return [400, err];
  const { from, to } = range(params);
  const n = Math.min(Number(params.get('buckets')) || 60, 500);
  const interval = Math.max(1000, Math.ceil((to - from) / n / 1000) * 1000);
  const start = Math.floor(from / interval) * interval;
  const rand = mulberry32(7);
  const buckets = [];
  for (let i = 0; i < n; i++) {
    const base = q ? 3 : 14;
    const wave = Math.sin(i / 6) * base * 0.6;
    const spike = i === 41 ? base * 6 : 0;
    buckets.push({ t: new Date(start + i * interval).toISOString(), count: Math.max(0, Math.round(base + wave + rand() * base + spike)) });
  }
  return [200, { interval_ms: interval, buckets }];
}

const TOP = {
  'organization.id': [['stttt', 412], ['sgtvt', 301], ['syt', 188], ['ubnd-cl', 97], [HOSTILE.img, 12]],
  'host.name': [['web01', 352], ['web02', 290], ['mail.dongthap.gov.vn', 201], ['db-core-01', 120], [HOSTILE.breakout, 9], [HOSTILE.quoteBackslash, 3]],
  'event.category': [['authentication', 520], ['network', 300], ['web', 201], ['process', 133], ['file', 50]],
  'event.outcome': [['success', 700], ['failure', 420], ['unknown', 114]],
  'source.ip': [['203.0.113.45', 380], ['198.51.100.7', 122], ['10.20.1.5', 88], ['192.0.2.10', 35]],
  'process.name': [['sshd', 410], ['nginx', 390], ['powershell.exe', 77], ['postfix', 60], ['', 4]],
};

function topValues(field, params) {
  const q = params.get('q') || '';
  const err = syntaxError(q);
  if (err) return [400, err];
  const vals = TOP[field] || [];
  const size = Number(params.get('size')) || 10;
  return [200, { field, values: vals.slice(0, size).map(([value, count]) => ({ value, count })), other: vals.length ? 30 : 0 }];
}

// ---------------------------------------------------------------------------
// Alerts (in memory, per server): list, detail, workflow, live stream
// ---------------------------------------------------------------------------

const SCORES = { informational: 1, low: 21, medium: 47, high: 73, critical: 99 };
const TRANSITIONS = { open: ['acknowledged', 'closed'], acknowledged: ['open', 'closed'], closed: ['open'] };

/** A canned alert (`n` picks its shape; alert 0 carries the hostile strings). */
export function makeAlert(n, { level, minutesAgo = n * 7, status = 'open', title } = {}) {
  const levels = ['critical', 'high', 'medium', 'low', 'informational'];
  const lv = level || levels[n % levels.length];
  const last = new Date(Date.now() - minutesAgo * 60_000);
  const first = new Date(last.getTime() - 5 * 60_000);
  const hostile = n === 0;
  return {
    id: `a${String(n).padStart(31, '0')}`,
    rule_id: hostile ? `rule-${HOSTILE.breakout}` : `rule-${n % 4}`,
    rule_title: title || (hostile ? `SSH brute force ${HOSTILE.img}` : ['SSH brute force', 'Ransomware note written', 'DNS tunnelling', 'Web shell upload'][n % 4]),
    kind: ['sigma', 'correlation', 'ioc', 'anomaly'][n % 4],
    severity: { score: SCORES[lv], label: lv },
    threat: {
      tactics: [{ id: 'TA0006', name: 'Credential Access' }],
      techniques: [{ id: 'T1110.001', parent: 'T1110' }],
      groups: [],
      software: [],
    },
    tags: ['attack.credential_access', 'attack.t1110.001'],
    entity: hostile
      ? { 'host.name': HOSTILE.breakout, 'user.name': HOSTILE.quoteBackslash, 'organization.id': 'stttt' }
      : { 'host.name': HOSTS[n % 4], 'source.ip': `203.0.113.${n + 1}`, 'organization.id': ORGS[n % 4] },
    window_start: first.toISOString(),
    first_seen: first.toISOString(),
    last_seen: last.toISOString(),
    count: n + 2,
    event_ids: hostile ? ['evt-100000', HOSTILE.bidi] : [`evt-${100000 + n}`, `evt-${100100 + n}`],
    event_ids_omitted: hostile ? 0 : n,
    status,
    flood: null,
    assignee: null,
    created_at: first.toISOString(),
    updated_at: last.toISOString(),
    revision: 1,
  };
}

function alertMatchesQuery(a, params) {
  const statuses = (params.get('status') || '').split(',').filter(Boolean);
  if (statuses.length && !statuses.includes(a.status)) return false;
  const sev = params.get('severity');
  if (sev && a.severity.score < (SCORES[sev] ?? Number(sev))) return false;
  const kind = params.get('kind');
  if (kind && a.kind !== kind) return false;
  const q = (params.get('q') || '').toLowerCase();
  if (q && ![a.rule_title, a.rule_id, ...Object.values(a.entity)].some((x) => x.toLowerCase().includes(q))) return false;
  return true;
}

export function createAlertsBackend() {
  const alerts = new Map();
  const history = new Map();
  const streams = new Set();
  const add = (a) => {
    alerts.set(a.id, a);
    if (!history.has(a.id)) history.set(a.id, [{ seq: 1, alert_id: a.id, at: a.created_at, actor: 'sen', action: 'created', from: null, to: null, comment: null }]);
  };
  for (let i = 0; i < 12; i++) add(makeAlert(i, { status: i === 5 ? 'closed' : i === 3 ? 'acknowledged' : 'open' }));
  let seq = 100;
  const record = (id, actor, action, from, to, comment) => {
    history.get(id).push({ seq: seq++, alert_id: id, at: new Date().toISOString(), actor, action, from, to, comment: comment || null });
  };
  const publish = (a) => {
    const frame = `event: alert\ndata: ${JSON.stringify(a)}\n\n`;
    for (const res of streams) res.write(frame);
  };
  return {
    /** Publish a new or changed alert to every open stream (as the pipeline would). */
    push(a) {
      add(a);
      publish(a);
    },
    /** Tell every open stream it missed `n` changes. */
    lag(n) {
      for (const res of streams) res.write(`event: lagged\ndata: ${JSON.stringify({ missed: n })}\n\n`);
    },
    streams,
    closeStreams() {
      for (const res of streams) res.end();
      streams.clear();
    },
    /** Handle an alert route; returns false when the path is not one. */
    handle(req, res, url, json, headers, body) {
      const path = url.pathname;
      if (path === '/api/v1/alerts/stream') {
        res.writeHead(200, { ...headers, 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' });
        res.write(': keep-alive\n\n');
        streams.add(res);
        req.on('close', () => streams.delete(res));
        return true;
      }
      if (path === '/api/v1/alerts') {
        const q = url.searchParams.get('q') || '';
        if (q.includes('boom')) return json(500, { error: 'alert database: disk I/O error' }), true;
        const list = [...alerts.values()]
          .filter((a) => alertMatchesQuery(a, url.searchParams))
          .sort((x, y) => Date.parse(y.last_seen) - Date.parse(x.last_seen));
        const limit = Number(url.searchParams.get('limit')) || 50;
        const start = Number(url.searchParams.get('cursor') || 0);
        const page = list.slice(start, start + limit);
        return json(200, { alerts: page, total: list.length, next: start + limit < list.length ? String(start + limit) : null }), true;
      }
      const m = /^\/api\/v1\/alerts\/([^/]+)(?:\/(status|assign|comments))?$/.exec(path);
      if (!m) return false;
      const id = decodeURIComponent(m[1]);
      const a = alerts.get(id);
      if (!a) return json(404, { error: `alert \`${id}\` not found` }), true;
      if (!m[2]) return json(200, { alert: a, history: history.get(id) }), true;
      if (req.method !== 'POST') return json(405, { error: 'method not allowed' }), true;
      if (!/^application\/json\b/i.test(req.headers['content-type'] || '')) return json(415, { error: 'the body must be JSON' }), true;
      const actor = req.headers['x-sen-user'] || 'analyst';
      let b;
      try {
        b = JSON.parse(body);
      } catch {
        return json(400, { error: 'invalid JSON body' }), true;
      }
      if (m[2] === 'status') {
        if (!(TRANSITIONS[a.status] || []).includes(b.status)) {
          return json(409, { error: `alert \`${id}\` is ${a.status}; it cannot be set to ${b.status}` }), true;
        }
        record(id, actor, 'status', a.status, b.status, b.comment);
        a.status = b.status;
      } else if (m[2] === 'assign') {
        record(id, actor, 'assign', a.assignee, b.assignee, b.comment);
        a.assignee = b.assignee;
      } else {
        if (!b.text) return json(400, { error: 'invalid comment: must not be empty' }), true;
        record(id, actor, 'comment', null, null, b.text);
      }
      a.revision += 1;
      a.updated_at = new Date().toISOString();
      publish(a);
      json(m[2] === 'comments' ? 201 : 200, { alert: a, history: history.get(id) });
      return true;
    },
  };
}

const STATIC = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/ui/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/ui/style.css': ['style.css', 'text/css; charset=utf-8'],
};

export function createServer({ log = false } = {}) {
  const alerts = createAlertsBackend();
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const headers = {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
    };
    const json = (status, body) => {
      res.writeHead(status, { ...headers, 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (log) process.stderr.write(`${req.method} ${url.pathname}${url.search}\n`);
    try {
      if (STATIC[url.pathname]) {
        const [file, type] = STATIC[url.pathname];
        const body = await readFile(path.join(UI_DIR, file));
        res.writeHead(200, { ...headers, 'Content-Type': type });
        res.end(body);
        return;
      }
      if (url.pathname === '/healthz') return json(200, { status: 'ok', version: 'mock' });
      if (url.pathname === '/api/v1/search') return json(...search(url.searchParams));
      if (url.pathname === '/api/v1/histogram') return json(...histogram(url.searchParams));
      const m = /^\/api\/v1\/fields\/([^/]+)\/top$/.exec(url.pathname);
      if (m) return json(...topValues(decodeURIComponent(m[1]), url.searchParams));
      if (url.pathname.startsWith('/api/v1/alerts')) {
        let body = '';
        if (req.method === 'POST') {
          for await (const chunk of req) body += chunk;
        }
        if (alerts.handle(req, res, url, json, headers, body)) return;
      }
      json(404, { error: 'not found' });
    } catch (e) {
      json(500, { error: String(e) });
    }
  });
  server.alerts = alerts;
  // Open event streams would keep close() waiting.
  const close = server.close.bind(server);
  server.close = (cb) => {
    alerts.closeStreams();
    return close(cb);
  };
  return server;
}

// Started directly (not imported, and not picked up as a file by `node --test`).
if (!process.env.NODE_TEST_CONTEXT && process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const port = Number(process.argv[2] || 0);
  const server = createServer({ log: process.env.MOCK_LOG === '1' });
  server.listen(port, '127.0.0.1', () => {
    process.stdout.write(`listening http://127.0.0.1:${server.address().port}/\n`);
  });
  let n = 100;
  setInterval(() => server.alerts.push(makeAlert(n++, { minutesAgo: 0, level: 'high', title: 'Live: password spraying' })), 20_000);
}
