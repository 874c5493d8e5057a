// Static security checks of the console UI files, and unit tests of the pure
// helpers exported by app.js. Run: node --test console/ui/test/
// No npm packages.

process.env.TZ = 'Asia/Ho_Chi_Minh'; // UTC+07:00, no DST: deterministic local-time tests

import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const UI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const read = (f) => readFileSync(path.join(UI, f), 'utf8');
const APP = read('app.js');
const HTML = read('index.html');
const CSS = read('style.css');

const app = await import('../app.js');

// ---------------------------------------------------------------------------
// Static checks
// ---------------------------------------------------------------------------

const FORBIDDEN_JS = [
  [/innerHTML/, 'innerHTML'],
  [/outerHTML/, 'outerHTML'],
  [/insertAdjacentHTML/, 'insertAdjacentHTML'],
  [/document\s*\.\s*write/, 'document.write'],
  [/\beval\s*\(/, 'eval('],
  [/new\s+Function\b/, 'new Function'],
  [/\bFunction\s*\(/, 'Function('],
  [/createContextualFragment/, 'createContextualFragment'],
  [/DOMParser/, 'DOMParser'],
  [/srcdoc/, 'srcdoc'],
  [/javascript:/i, 'javascript: URL'],
  [/set(?:Timeout|Interval)\s*\(\s*['"`]/, 'string timer callback'],
  [/setAttribute\s*\(\s*['"`]\s*(?:on|style\b|href\b|src\b|xlink:href\b|action\b|formaction\b)/i, 'setAttribute of on*/style/href/src'],
  [/\.style\s*(?:\.|=|\[)/, 'element.style (CSSOM) writes'],
  [/cssText/, 'cssText'],
  [/\.(?:src|href|action)\s*=(?!=)/, '.src/.href/.action assignment'],
  [/\.on[a-z]+\s*=(?!=)/, 'on* property handler'],
];

for (const [file, src] of [['app.js', APP], ['index.html', HTML]]) {
  test(`${file} uses no HTML-injection or eval sinks`, () => {
    for (const [re, name] of FORBIDDEN_JS) {
      if (file === 'index.html' && name.startsWith('.')) continue;
      const m = re.exec(src);
      assert.equal(m, null, `${file} contains forbidden ${name}: ${m && src.slice(Math.max(0, m.index - 40), m.index + 40)}`);
    }
  });
}

test('index.html has no inline handlers, inline styles or inline script bodies', () => {
  assert.doesNotMatch(HTML, /<[^>]*\son[a-z]+\s*=/i, 'inline on…= handler');
  assert.doesNotMatch(HTML, /<[^>]*\sstyle\s*=/i, 'inline style attribute');
  assert.doesNotMatch(HTML, /<style[\s>]/i, 'inline <style> element');
  const scripts = [...HTML.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
  assert.equal(scripts.length, 1, 'exactly one script element');
  for (const [, attrs, body] of scripts) {
    assert.equal(body.trim(), '', 'script body must be empty');
    assert.match(attrs, /\bsrc="\/ui\/app\.js"/);
    assert.match(attrs, /\btype="module"/);
  }
  assert.match(HTML, /<link rel="stylesheet" href="\/ui\/style\.css">/);
  assert.doesNotMatch(HTML, /href\s*=\s*"javascript:/i);
});

test('index.html carries a CSP meta compatible with the server policy', () => {
  const m = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(HTML);
  assert.ok(m, 'CSP meta present');
  const dirs = Object.fromEntries(
    m[1].split(';').map((d) => d.trim()).filter(Boolean).map((d) => {
      const [k, ...v] = d.split(/\s+/);
      return [k, v.join(' ')];
    }),
  );
  assert.equal(dirs['default-src'], "'self'");
  assert.equal(dirs['script-src'], "'self'");
  assert.equal(dirs['style-src'], "'self'");
  assert.equal(dirs['object-src'], "'none'");
  assert.equal(dirs['img-src'], "'self' data:");
  for (const v of Object.values(dirs)) assert.doesNotMatch(v, /unsafe-(inline|eval)/);
});

test('no external resources (offline page)', () => {
  const allowed = new Set(['http://www.w3.org/2000/svg']);
  for (const [file, src] of [['app.js', APP], ['index.html', HTML], ['style.css', CSS]]) {
    for (const m of src.matchAll(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}[^\s'"`)]*/gi)) {
      assert.ok(allowed.has(m[0]), `${file} references external ${m[0]}`);
    }
  }
  assert.doesNotMatch(CSS, /@import|@font-face|url\(/i, 'style.css loads nothing');
});

test('every element id that app.js looks up exists in index.html', () => {
  const ids = [...APP.matchAll(/\$\('([\w-]+)'\)/g)].map((m) => m[1]);
  assert.ok(ids.length > 20, 'found the lookups');
  for (const id of ids) assert.match(HTML, new RegExp(`id="${id}"`), `#${id} missing from index.html`);
});

// WCAG contrast of the theme's text colours on its backgrounds.
function hexToRgb(hex) {
  const h = hex.replace('#', '');
  return [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16) / 255);
}
function luminance(hex) {
  const [r, g, b] = hexToRgb(hex).map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
function contrast(a, b) {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}
test('theme text colours meet WCAG AA (4.5:1) on every panel colour', () => {
  const v = Object.fromEntries([...CSS.matchAll(/--([\w-]+):\s*(#[0-9a-f]{6})\b/gi)].map((m) => [m[1], m[2]]));
  for (const fg of ['fg', 'muted', 'accent', 'ok', 'bad', 'warn']) {
    for (const bg of ['bg', 'panel', 'panel-2', 'panel-3']) {
      const c = contrast(v[fg], v[bg]);
      assert.ok(c >= 4.5, `--${fg} on --${bg}: ${c.toFixed(2)}:1`);
    }
  }
});

// ---------------------------------------------------------------------------
// Query building
// ---------------------------------------------------------------------------

test('quoteValue escapes quotes and backslashes', () => {
  assert.equal(app.quoteValue('web01'), '"web01"');
  assert.equal(app.quoteValue('a"b'), '"a\\"b"');
  assert.equal(app.quoteValue('C:\\Users\\"admin"'), '"C:\\\\Users\\\\\\"admin\\""');
  assert.equal(app.quoteValue('"; alert(1); "'), '"\\"; alert(1); \\""');
  assert.equal(app.quoteValue('<img src=x onerror=alert(1)>'), '"<img src=x onerror=alert(1)>"');
});

test('buildClause quotes strings, leaves numbers/booleans bare, escapes odd field names', () => {
  assert.equal(app.buildClause('host.name', 'web01'), 'host.name:"web01"');
  assert.equal(app.buildClause('host.name', 'web01', true), 'NOT host.name:"web01"');
  assert.equal(app.buildClause('event.risk_score', 73), 'event.risk_score:73');
  assert.equal(app.buildClause('tls.established', false), 'tls.established:false');
  assert.equal(app.buildClause('@timestamp', 'x'), '@timestamp:"x"');
  assert.equal(app.buildClause('x.<svg onload=a>', 'v'), 'x.\\<svg\\ onload\\=a\\>:"v"');
  assert.equal(app.buildClause('a:b', 'v'), 'a\\:b:"v"');
});

test('tokenizeTopLevel respects quotes, escapes, parentheses and ranges', () => {
  assert.deepEqual(app.tokenizeTopLevel('a AND host.name:"web 01"'), ['a', 'AND', 'host.name:"web 01"']);
  assert.deepEqual(app.tokenizeTopLevel('(a OR b) AND c'), ['(a OR b)', 'AND', 'c']);
  assert.deepEqual(app.tokenizeTopLevel('x:[1 TO 5] y'), ['x:[1 TO 5]', 'y']);
  assert.deepEqual(app.tokenizeTopLevel('m:"a \\" b" c'), ['m:"a \\" b"', 'c']);
  assert.deepEqual(app.tokenizeTopLevel('  '), []);
  assert.equal(app.hasTopLevelOr('a OR b'), true);
  assert.equal(app.hasTopLevelOr('(a OR b) AND c'), false);
  assert.equal(app.hasTopLevelOr('m:"a OR b"'), false);
});

test('appendClause adds, dedupes, flips and parenthesises', () => {
  const f = (q, v, neg) => app.appendClause(q, 'host.name', v, neg);
  assert.equal(f('', 'web01'), 'host.name:"web01"');
  assert.equal(f('   ', 'web01', true), 'NOT host.name:"web01"');
  assert.equal(f('error', 'web01'), 'error AND host.name:"web01"');
  // Already there → unchanged.
  assert.equal(f('error AND host.name:"web01"', 'web01'), 'error AND host.name:"web01"');
  assert.equal(f('NOT host.name:"web01"', 'web01', true), 'NOT host.name:"web01"');
  // Opposite present → replaced.
  assert.equal(f('error AND host.name:"web01"', 'web01', true), 'error AND NOT host.name:"web01"');
  assert.equal(f('error AND NOT host.name:"web01"', 'web01'), 'error AND host.name:"web01"');
  assert.equal(f('host.name:"web01"', 'web01', true), 'NOT host.name:"web01"');
  assert.equal(f('-host.name:"web01" error', 'web01'), 'error AND host.name:"web01"');
  // Positive clause must not be mistaken for an existing NOT clause.
  assert.equal(f('NOT host.name:"web01"', 'web02'), 'NOT host.name:"web01" AND host.name:"web02"');
  // Top-level OR → wrapped.
  assert.equal(f('a OR b', 'web01'), '(a OR b) AND host.name:"web01"');
  // Hostile values stay inside one quoted phrase.
  const q = f('', '"; alert(1); "');
  assert.equal(q, 'host.name:"\\"; alert(1); \\""');
  assert.deepEqual(app.tokenizeTopLevel(q), [q]);
  const q2 = app.appendClause('x', 'user.name', 'C:\\Users\\"admin"\\Desktop');
  assert.equal(q2, 'x AND user.name:"C:\\\\Users\\\\\\"admin\\"\\\\Desktop"');
  assert.equal(app.tokenizeTopLevel(q2).length, 3);
  // Idempotent with hostile values too.
  assert.equal(app.appendClause(q2, 'user.name', 'C:\\Users\\"admin"\\Desktop'), q2);
});

// ---------------------------------------------------------------------------
// Hash state and API URLs
// ---------------------------------------------------------------------------

test('parseHash/buildHash round-trip, including hostile queries', () => {
  for (const q of ['', 'a AND b', 'host.name:"web 01" & x=1 #frag', '"; alert(1); "', '<img src=x onerror=alert(1)>', 'Đồng Tháp', 'a+b%20c']) {
    const s = { q, from: 'now-1h', to: 'now', page: 3, live: true };
    assert.deepEqual(app.parseHash('#' + app.buildHash(s)), s);
  }
  const abs = { q: 'x', from: '2026-11-26T10:00:00.000Z', to: '2026-11-26T11:00:00.000Z', page: 1, live: false };
  assert.deepEqual(app.parseHash(app.buildHash(abs)), abs);
  assert.equal(app.buildHash(abs), 'q=x&from=2026-11-26T10%3A00%3A00.000Z&to=2026-11-26T11%3A00%3A00.000Z');
});

test('parseHash falls back to defaults on junk and never pollutes prototypes', () => {
  assert.deepEqual(app.parseHash(''), { ...app.DEFAULT_STATE });
  assert.deepEqual(app.parseHash(undefined), { ...app.DEFAULT_STATE });
  const s = app.parseHash('#from=alert(1)&to=now-zz&page=-4&live=true&__proto__=x&constructor=y');
  assert.deepEqual(s, { ...app.DEFAULT_STATE });
  assert.equal({}.x, undefined);
  assert.equal(app.parseHash('#page=999999999').page, 1);
  assert.equal(app.parseHash('#page=0').page, 1);
  assert.equal(app.parseHash('#page=7').page, 7);
  assert.equal(app.parseHash('#q=' + 'a'.repeat(20000)).q.length, app.MAX_QUERY_LENGTH);
  assert.equal(app.parseHash('#q=a%ZZb').q, 'a%ZZb'); // malformed escapes do not throw
});

test('apiUrl and topValuesPath encode everything', () => {
  assert.equal(
    app.apiUrl('/api/v1/search', { q: 'a&b=c #"', from: 'x', limit: 50, offset: 0, skip: undefined }),
    '/api/v1/search?q=a%26b%3Dc+%23%22&from=x&limit=50&offset=0',
  );
  assert.equal(app.apiUrl('/healthz'), '/healthz');
  assert.equal(app.topValuesPath('host.name'), '/api/v1/fields/host.name/top');
  assert.equal(app.topValuesPath('../../x?y'), '/api/v1/fields/..%2F..%2Fx%3Fy/top');
});

test('pageInfo', () => {
  assert.deepEqual(app.pageInfo(1234, 1), { page: 1, pages: 25, offset: 0, start: 1, end: 50, hasPrev: false, hasNext: true });
  assert.deepEqual(app.pageInfo(1234, 25), { page: 25, pages: 25, offset: 1200, start: 1201, end: 1234, hasPrev: true, hasNext: false });
  assert.deepEqual(app.pageInfo(0, 1), { page: 1, pages: 1, offset: 0, start: 0, end: 0, hasPrev: false, hasNext: false });
  assert.equal(app.pageInfo(10, 5).start, 0); // past the end
  assert.equal(app.pageInfo(Infinity, 3).offset, 100);
});

// ---------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------

const NOW = Date.parse('2026-11-26T10:00:00.000Z');

test('relative range math', () => {
  assert.deepEqual(app.parseRelative('now'), { amount: 0, unit: 's' });
  assert.deepEqual(app.parseRelative('now-15m'), { amount: 15, unit: 'm' });
  assert.equal(app.parseRelative('now-15x'), null);
  assert.equal(app.parseRelative('now+1h'), null);
  const r = (from, to = 'now') => app.resolveRange({ from, to }, NOW);
  const span = (from) => {
    const x = r(from);
    return x.to.getTime() - x.from.getTime();
  };
  assert.equal(span('now-15m'), 15 * 60_000);
  assert.equal(span('now-1h'), 3_600_000);
  assert.equal(span('now-24h'), 86_400_000);
  assert.equal(span('now-7d'), 7 * 86_400_000);
  assert.equal(span('now-30d'), 30 * 86_400_000);
  assert.equal(app.toRfc3339(r('now-15m').from), '2026-11-26T09:45:00.000Z');
  assert.equal(app.toRfc3339(r('now-15m').to), '2026-11-26T10:00:00.000Z');
  assert.deepEqual(r('now', 'now-1h'), { error: 'Start time must be before end time' });
  assert.deepEqual(r('garbage'), { error: 'Invalid start time' });
  const abs = r('2026-11-26T08:00:00Z', '2026-11-26T09:00:00+07:00');
  assert.equal(abs.error, 'Start time must be before end time');
});

test('parseTimestamp accepts RFC 3339 variants and rejects junk', () => {
  assert.equal(app.parseTimestamp('2026-11-26T10:00:00.123Z').toISOString(), '2026-11-26T10:00:00.123Z');
  assert.equal(app.parseTimestamp('2026-11-26T10:00:00.123456789Z').toISOString(), '2026-11-26T10:00:00.123Z');
  assert.equal(app.parseTimestamp('2026-11-26T17:00:00+07:00').toISOString(), '2026-11-26T10:00:00.000Z');
  assert.equal(app.parseTimestamp('2026-11-26T17:00:00+0700').toISOString(), '2026-11-26T10:00:00.000Z');
  assert.equal(app.parseTimestamp('2026-11-26T10:00Z').toISOString(), '2026-11-26T10:00:00.000Z');
  assert.equal(app.parseTimestamp('2026-11-26'), null);
  assert.equal(app.parseTimestamp('yesterday'), null);
  assert.equal(app.parseTimestamp('2026-13-45T99:00:00Z'), null);
  assert.equal(app.parseTimestamp(null), null);
  assert.equal(app.parseTimestamp({}), null);
});

test('local time formatting (TZ=Asia/Ho_Chi_Minh)', () => {
  const d = new Date('2026-11-26T10:00:00.123Z');
  assert.equal(app.formatLocalTime(d), '2026-11-26 17:00:00.123');
  assert.equal(app.formatLocalTime(d, { ms: false }), '2026-11-26 17:00:00');
  assert.equal(app.formatLocalTime(null), '—');
  assert.equal(app.formatUtcOffset(d), 'UTC+07:00');
  assert.equal(app.toLocalInputValue(d), '2026-11-26T17:00:00');
  assert.equal(app.fromLocalInputValue('2026-11-26T17:00:00').toISOString(), '2026-11-26T10:00:00.000Z');
  assert.equal(app.fromLocalInputValue('2026-11-26T17:00').toISOString(), '2026-11-26T10:00:00.000Z');
  assert.equal(app.fromLocalInputValue(''), null);
  assert.equal(app.fromLocalInputValue('2026-11-26 17:00'), null);
});

test('range labels', () => {
  assert.equal(app.rangeLabel({ from: 'now-15m', to: 'now' }), 'Last 15 minutes');
  assert.equal(app.rangeLabel({ from: 'now-24h', to: 'now' }), 'Last 24 hours');
  assert.equal(app.rangeLabel({ from: 'now-2h', to: 'now' }), 'Last 2 hours');
  assert.equal(app.rangeLabel({ from: 'now-1d', to: 'now' }), 'Last 1 day');
  assert.equal(
    app.rangeLabel({ from: '2026-11-26T10:00:00Z', to: '2026-11-26T11:30:00Z' }),
    '2026-11-26 17:00:00 → 2026-11-26 18:30:00',
  );
  assert.equal(app.formatDuration(60_000), '1 minute');
  assert.equal(app.formatDuration(1_800_000), '30 minutes');
  assert.equal(app.formatDuration(1500), '1.5 seconds');
  assert.equal(app.formatDuration(86_400_000 * 2), '2 days');
  assert.equal(app.formatDuration(0), '—');
});

// ---------------------------------------------------------------------------
// Histogram
// ---------------------------------------------------------------------------

test('bucket label formatting follows interval and span', () => {
  const d = new Date('2026-11-26T10:05:30Z'); // 17:05:30 local
  assert.equal(app.formatBucketLabel(d, 60_000, 3_600_000), '17:05');
  assert.equal(app.formatBucketLabel(d, 10_000, 600_000), '17:05:30');
  assert.equal(app.formatBucketLabel(d, 3_600_000, 7 * 86_400_000), '26/11 17:05');
  assert.equal(app.formatBucketLabel(d, 86_400_000, 30 * 86_400_000), '26/11');
  assert.equal(app.formatBucketRange(new Date('2026-11-26T10:00:00Z'), 60_000), '2026-11-26 17:00:00 – 17:01:00');
  assert.equal(
    app.formatBucketRange(new Date('2026-11-26T16:30:00Z'), 3_600_000),
    '2026-11-26 23:30:00 – 2026-11-27 00:30:00',
  );
});

test('niceMax, labelStep, bucketIndexAt', () => {
  assert.equal(app.niceMax(0), 1);
  assert.equal(app.niceMax(1), 1);
  assert.equal(app.niceMax(3), 4);
  assert.equal(app.niceMax(7), 8);
  assert.equal(app.niceMax(10), 10);
  assert.equal(app.niceMax(11), 12);
  assert.equal(app.niceMax(22), 30);
  assert.equal(app.niceMax(103), 120);
  assert.equal(app.niceMax(150), 160);
  assert.equal(app.niceMax(1000), 1000);
  assert.equal(app.niceMax(1001), 1200);
  assert.equal(app.niceMax(0.5), 1);
  for (let n = 2; n < 5000; n += 7) {
    const m = app.niceMax(n);
    assert.ok(m >= n && Number.isInteger(m) && Number.isInteger(m / 2), `niceMax(${n}) = ${m}`);
  }
  assert.equal(app.labelStep(20, 70), 4);
  assert.equal(app.labelStep(100, 70), 1);
  assert.equal(app.labelStep(0, 70), 1);
  assert.equal(app.bucketIndexAt(44, 44, 600, 60), 0);
  assert.equal(app.bucketIndexAt(54, 44, 600, 60), 1);
  assert.equal(app.bucketIndexAt(-100, 44, 600, 60), 0);
  assert.equal(app.bucketIndexAt(9999, 44, 600, 60), 59);
  assert.equal(app.bucketIndexAt(10, 0, 600, 0), -1);
});

test('zoomRange and normaliseHistogram', () => {
  const h = app.normaliseHistogram({
    interval_ms: 60000,
    buckets: [
      { t: '2026-11-26T10:00:00Z', count: 12 },
      { t: '2026-11-26T10:01:00Z', count: -3 },
      { t: 'bogus', count: 1 },
      { t: '2026-11-26T10:02:00Z', count: '7' },
    ],
  });
  assert.equal(h.intervalMs, 60000);
  assert.deepEqual(h.buckets.map((b) => b.count), [12, 0, 7]);
  assert.deepEqual(app.zoomRange(h.buckets, h.intervalMs, 2, 0), {
    from: '2026-11-26T10:00:00.000Z',
    to: '2026-11-26T10:03:00.000Z',
  });
  assert.deepEqual(app.zoomRange(h.buckets, h.intervalMs, 1, 1), {
    from: '2026-11-26T10:01:00.000Z',
    to: '2026-11-26T10:02:00.000Z',
  });
  assert.equal(app.zoomRange([], 60000, 0, 0), null);
  assert.equal(app.zoomRange(h.buckets, 0, 0, 0), null);
  assert.deepEqual(app.normaliseHistogram(null), { intervalMs: 0, buckets: [] });
  assert.deepEqual(app.normaliseHistogram({ buckets: 'x' }), { intervalMs: 0, buckets: [] });
});

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

test('getField reads flat dotted keys, then nested paths, own properties only', () => {
  const hit = JSON.parse('{"host.name":"flat","host":{"name":"nested","ip":"1.2.3.4"},"__proto__":{"polluted":1}}');
  assert.equal(app.getField(hit, 'host.name'), 'flat');
  assert.equal(app.getField(hit, 'host.ip'), '1.2.3.4');
  assert.equal(app.getField(hit, 'toString'), undefined);
  assert.equal(app.getField(hit, 'constructor.name'), undefined);
  assert.equal(app.getField(null, 'x'), undefined);
  assert.equal({}.polluted, undefined);
});

test('flattenHit sorts keys, keeps arrays, hides event.original', () => {
  const rows = app.flattenHit({
    message: 'm',
    '@timestamp': 't',
    'event.original': 'raw',
    host: { name: 'h', os: { family: 'linux' } },
    'event.category': ['authentication', 'iam'],
    related: { hosts: [{ a: 1 }] },
    empty: {},
  });
  assert.deepEqual(rows, [
    ['@timestamp', 't'],
    ['empty', {}],
    ['event.category', ['authentication', 'iam']],
    ['host.name', 'h'],
    ['host.os.family', 'linux'],
    ['message', 'm'],
    ['related.hosts', ['{"a":1}']],
  ]);
});

test('display helpers', () => {
  assert.equal(app.displayValue(null), 'null');
  assert.equal(app.displayValue(3), '3');
  assert.equal(app.displayValue({ a: 1 }), '{"a":1}');
  assert.equal(app.displayList(['a', 'b']), 'a, b');
  assert.equal(app.formatCount(1234567), '1,234,567');
  assert.equal(app.formatCount(0), '0');
  assert.equal(app.formatCount(NaN), '—');
  assert.equal(app.outcomeClass('success'), 'badge badge-ok');
  assert.equal(app.outcomeClass('failure'), 'badge badge-bad');
  assert.equal(app.outcomeClass('<x onclick=y>'), 'badge badge-neutral');
  assert.equal(app.isFilterable('x'), true);
  assert.equal(app.isFilterable(1), true);
  assert.equal(app.isFilterable(NaN), false);
  assert.equal(app.isFilterable(null), false);
  assert.equal(app.isFilterable({}), false);
});

test('revealText shows bidi overrides and control characters', () => {
  assert.equal(app.revealText('invoice\u202Etxt.exe'), 'invoice⟨U+202E⟩txt.exe');
  assert.equal(app.revealText('a\u200Bb\u0000c\u001b[31m'), 'a⟨U+200B⟩b⟨U+0000⟩c⟨U+001B⟩[31m');
  assert.equal(app.revealText('line1\nline2\tx'), 'line1↵line2 x');
  assert.equal(app.revealText('line1\r\nline2\r', { multiline: true }), 'line1\nline2⟨U+000D⟩');
  assert.equal(app.revealText('Đồng Tháp <b>'), 'Đồng Tháp <b>');
  assert.equal(app.revealText('abcdef', { max: 3 }), 'abc… [3 more characters]');
  assert.equal(app.revealText(42), '42');
});

test('sortNewestFirst is stable and puts bad timestamps last', () => {
  const hits = [
    { '@timestamp': '2026-11-26T10:00:00Z', id: 1 },
    { '@timestamp': 'bad', id: 2 },
    { '@timestamp': '2026-11-26T11:00:00Z', id: 3 },
    { '@timestamp': '2026-11-26T10:00:00Z', id: 4 },
  ];
  assert.deepEqual(app.sortNewestFirst(hits).map((h) => h.id), [3, 1, 4, 2]);
});

// ---------------------------------------------------------------------------
// Alerts view
// ---------------------------------------------------------------------------

const ALERT = Object.freeze({
  id: 'a1',
  rule_id: 'ssh-brute',
  rule_title: 'SSH brute force',
  kind: 'sigma',
  severity: { score: 73, label: 'high' },
  threat: { tactics: [{ id: 'TA0006', name: 'Credential Access' }], techniques: [{ id: 'T1110.001', parent: 'T1110' }, { id: 'T1078', parent: null }, { id: '<b>', parent: null }] },
  entity: { 'user.name': 'root', 'host.name': 'web01', 'organization.id': 'stttt' },
  first_seen: '2026-11-26T10:00:00Z',
  last_seen: '2026-11-26T10:05:00Z',
  status: 'open',
  revision: 1,
});

test('alerts hash: routing, round-trip, junk falls back to defaults', () => {
  assert.equal(app.isAlertsHash('#view=alerts'), true);
  assert.equal(app.isAlertsHash('#view=alerts&status=closed'), true);
  assert.equal(app.isAlertsHash('#q=view%3Dalerts'), false);
  assert.equal(app.isAlertsHash(''), false);
  assert.equal(app.isAlertsHash(undefined), false);
  assert.equal(app.buildAlertsHash(app.DEFAULT_ALERTS_STATE), 'view=alerts');
  for (const s of [
    { status: 'closed', severity: 'high', kind: 'ioc', q: '"; alert(1); "', id: 'a0123' },
    { status: 'any', severity: '', kind: '', q: 'Đồng Tháp & x=1 #frag', id: '' },
    { ...app.DEFAULT_ALERTS_STATE },
  ]) {
    assert.deepEqual(app.parseAlertsHash('#' + app.buildAlertsHash(s)), s);
  }
  const junk = app.parseAlertsHash('#view=alerts&status=pending&severity=severe&kind=yara&id=../../x&__proto__=1');
  assert.deepEqual(junk, { ...app.DEFAULT_ALERTS_STATE });
  assert.equal(app.parseAlertsHash('#view=alerts&q=' + 'x'.repeat(1000)).q.length, app.MAX_ALERT_TEXT);
});

test('alert API URLs encode filters and ids', () => {
  assert.equal(app.alertsListUrl(app.DEFAULT_ALERTS_STATE), '/api/v1/alerts?status=open%2Cacknowledged&limit=100');
  assert.equal(
    app.alertsListUrl({ status: 'any', severity: 'high', kind: 'ioc', q: ' a&b ' }, 'last_seen.d.1.x'),
    '/api/v1/alerts?severity=high&kind=ioc&q=a%26b&limit=100&cursor=last_seen.d.1.x',
  );
  assert.equal(app.alertPath('a1'), '/api/v1/alerts/a1');
  assert.equal(app.alertPath('../x?y', 'status'), '/api/v1/alerts/..%2Fx%3Fy/status');
});

test('alertMatches mirrors the API filters', () => {
  const s = (patch) => ({ ...app.DEFAULT_ALERTS_STATE, ...patch });
  assert.equal(app.alertMatches(ALERT, s({})), true);
  assert.equal(app.alertMatches({ ...ALERT, status: 'closed' }, s({})), false);
  assert.equal(app.alertMatches({ ...ALERT, status: 'closed' }, s({ status: 'any' })), true);
  assert.equal(app.alertMatches(ALERT, s({ severity: 'high' })), true);
  assert.equal(app.alertMatches(ALERT, s({ severity: 'critical' })), false);
  assert.equal(app.alertMatches(ALERT, s({ kind: 'ioc' })), false);
  assert.equal(app.alertMatches(ALERT, s({ q: 'BRUTE' })), true);
  assert.equal(app.alertMatches(ALERT, s({ q: 'web01' })), true);
  assert.equal(app.alertMatches(ALERT, s({ q: 'nothing' })), false);
  assert.equal(app.alertMatches(null, s({})), false);
  assert.equal(app.alertMatches({ id: 5 }, s({ status: 'any' })), false);
});

test('mergeAlert: new on top, updates move, stale copies and filtered ones', () => {
  const st = { ...app.DEFAULT_ALERTS_STATE };
  const a = (id, last, rev = 1, patch = {}) => ({ ...ALERT, id, last_seen: last, revision: rev, ...patch });
  let list = [a('x', '2026-11-26T10:03:00Z'), a('y', '2026-11-26T10:01:00Z')];
  let r = app.mergeAlert(list, a('n', '2026-11-26T10:09:00Z'), st);
  assert.equal(r.change, 'added');
  assert.deepEqual(r.list.map((x) => x.id), ['n', 'x', 'y']);
  list = r.list;
  r = app.mergeAlert(list, a('y', '2026-11-26T10:10:00Z', 2), st);
  assert.equal(r.change, 'updated');
  assert.deepEqual(r.list.map((x) => x.id), ['y', 'n', 'x']);
  list = r.list;
  r = app.mergeAlert(list, a('y', '2026-11-26T10:00:00Z', 1), st);
  assert.equal(r.change, 'stale');
  assert.equal(r.list, list);
  r = app.mergeAlert(list, a('n', '2026-11-26T10:09:00Z', 2, { status: 'closed' }), st);
  assert.equal(r.change, 'removed');
  assert.deepEqual(r.list.map((x) => x.id), ['y', 'x']);
  r = app.mergeAlert(list, a('z', '2026-11-26T10:09:00Z', 1, { status: 'closed' }), st);
  assert.equal(r.change, 'stale', 'a new alert outside the filters is not added');
  assert.equal(list.length, 3, 'the input list is not mutated');
  const many = Array.from({ length: app.ALERTS_MAX_ROWS }, (_, i) => a(`m${i}`, '2026-11-26T09:00:00Z'));
  assert.equal(app.mergeAlert(many, a('new', '2026-11-26T10:00:00Z'), st).list.length, app.ALERTS_MAX_ROWS);
});

test('alert display helpers use fixed classes and never trust data', () => {
  assert.equal(app.severityClass('critical'), 'sev sev-critical');
  assert.equal(app.severityClass('"><img src=x>'), 'sev sev-unknown');
  assert.equal(app.statusClass('acknowledged'), 'st st-acknowledged');
  assert.equal(app.statusClass('constructor'), 'st st-unknown');
  assert.equal(app.entityText(ALERT), 'host.name=web01 user.name=root');
  assert.equal(app.entityText({ ...ALERT, entity: { 'organization.id': 'x' } }), '—');
  assert.equal(app.entityText({ ...ALERT, flood: { sample: [{}, {}], more: true } }), 'flood summary: 2 entities sampled, more');
  assert.deepEqual(app.techniqueIds(ALERT), ['T1110', 'T1110.001', 'T1078']);
  assert.deepEqual(app.techniqueIds({}), []);
  assert.deepEqual(app.workflowActions('open').map(([s]) => s), ['acknowledged', 'closed']);
  assert.deepEqual(app.workflowActions('acknowledged').map(([s]) => s), ['closed', 'open']);
  assert.deepEqual(app.workflowActions('closed'), [['open', 'Reopen']]);
  assert.deepEqual(app.workflowActions('weird'), []);
  assert.equal(app.isValidActor('nguyễn.văn-a'), true);
  assert.equal(app.isValidActor('a b'), false);
  assert.equal(app.isValidActor('<script>'), false);
  assert.equal(app.isValidActor('x'.repeat(65)), false);
  assert.equal(app.historyText({ action: 'status', actor: 'lan', from: 'open', to: 'closed' }), 'lan changed status open → closed');
  assert.equal(app.historyText({ action: 'assign', actor: 'lan', from: null, to: 'minh' }), 'lan assigned minh');
  assert.equal(app.historyText({ action: 'assign', actor: 'minh', from: 'minh', to: null }), 'minh unassigned minh');
  assert.equal(app.historyText({ action: 'created', actor: 'sen' }), 'Alert created by detection');
  assert.equal(app.historyText({ action: 'comment', actor: '<b>x</b>' }), '<b>x</b> commented');
});

test('a matched event links to the search view with an escaped event.id query', () => {
  const h = app.eventSearchHash('evt-"1"\\x', ALERT);
  const s = app.parseHash('#' + h);
  assert.equal(s.q, 'event.id:"evt-\\"1\\"\\\\x"');
  assert.equal(s.from, '2026-11-26T09:59:00.000Z');
  assert.equal(s.to, '2026-11-26T10:06:00.000Z');
  assert.equal(app.isAlertsHash('#' + h), false);
  assert.equal(app.parseHash('#' + app.eventSearchHash('e1', {})).from, 'now-30d');
});
