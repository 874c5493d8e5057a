// Sen console — single-page log search UI.
//
// Plain ES2020 module, no build step, no dependencies. It is served as
// /ui/app.js by the `sen` binary under a strict CSP (script-src 'self',
// style-src 'self'), so:
//   * every piece of data from the API is attacker-controlled log text and is
//     only ever written with `textContent` / `createElement` /
//     `createElementNS` (never as markup);
//   * data never goes into href/src/style/event-handler attributes;
//   * nothing is evaluated; the URL hash is parsed with URLSearchParams.
//
// The first half of this file is pure helpers (exported, no DOM access) so
// they can be unit-tested in Node: see test/render.test.mjs. The DOM code at
// the bottom runs only in a browser.

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

export const PAGE_SIZE = 50;
export const HISTOGRAM_BUCKETS = 60;
export const TOP_SIZE = 10;
export const REFRESH_MS = 10_000;
export const HEALTH_MS = 30_000;
export const REQUEST_TIMEOUT_MS = 30_000;
export const MAX_QUERY_LENGTH = 8192;
export const MAX_PAGE = 100_000;
/** Characters of a value shown in a table cell / in the detail panel. */
export const CELL_MAX = 1000;
export const DETAIL_MAX = 200_000;

export const TOP_FIELDS = Object.freeze([
  'organization.id',
  'host.name',
  'event.category',
  'event.outcome',
  'source.ip',
  'process.name',
]);

export const QUICK_RANGES = Object.freeze([
  { from: 'now-15m', label: 'Last 15 minutes' },
  { from: 'now-1h', label: 'Last 1 hour' },
  { from: 'now-24h', label: 'Last 24 hours' },
  { from: 'now-7d', label: 'Last 7 days' },
  { from: 'now-30d', label: 'Last 30 days' },
]);

export const DEFAULT_STATE = Object.freeze({
  q: '',
  from: 'now-24h',
  to: 'now',
  page: 1,
  live: false,
});

const UNIT_MS = Object.freeze({
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
});
const UNIT_WORD = Object.freeze({ s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week' });

// ---------------------------------------------------------------------------
// Time helpers
// ---------------------------------------------------------------------------

const RELATIVE_RE = /^now(?:-(\d{1,6})([smhdw]))?$/;
// RFC 3339 / ISO 8601 with a mandatory date and time; fraction of any length;
// Z or ±hh:mm offset (or none, read as local time by Date).
const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parse `now` / `now-15m` into `{ amount, unit }` (amount 0 for `now`), or null. */
export function parseRelative(expr) {
  if (typeof expr !== 'string') return null;
  const m = RELATIVE_RE.exec(expr.trim());
  if (!m) return null;
  if (m[1] === undefined) return { amount: 0, unit: 's' };
  return { amount: Number(m[1]), unit: m[2] };
}

/**
 * Parse an API / user timestamp into a Date, or null. Fractions longer than
 * milliseconds (nanosecond timestamps) are truncated, since Date keeps ms.
 */
export function parseTimestamp(value) {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'number') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  if (typeof value !== 'string') return null;
  const m = ISO_RE.exec(value.trim());
  if (!m) return null;
  const frac = m[7] ? '.' + (m[7] + '00').slice(0, 3) : '';
  let zone = m[8] || '';
  if (zone && zone !== 'Z' && zone !== 'z' && !zone.includes(':')) {
    zone = zone.slice(0, 3) + ':' + zone.slice(3);
  }
  const norm = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] || '00'}${frac}${zone.toUpperCase()}`;
  const d = new Date(norm);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** True if `expr` is a usable range endpoint (relative or absolute). */
export function isValidTimeExpr(expr) {
  return parseRelative(expr) !== null || parseTimestamp(expr) !== null;
}

/** Resolve a range endpoint (`now-1h` or an RFC 3339 string) to a Date. */
export function resolveTime(expr, nowMs) {
  const rel = parseRelative(expr);
  if (rel) return new Date(nowMs - rel.amount * UNIT_MS[rel.unit]);
  return parseTimestamp(expr);
}

/**
 * Resolve the state's range at `nowMs`. Returns `{ from, to }` Dates or
 * `{ error }` when the range is unusable.
 */
export function resolveRange(state, nowMs) {
  const from = resolveTime(state.from, nowMs);
  const to = resolveTime(state.to, nowMs);
  if (!from) return { error: 'Invalid start time' };
  if (!to) return { error: 'Invalid end time' };
  if (from.getTime() >= to.getTime()) return { error: 'Start time must be before end time' };
  return { from, to };
}

/** RFC 3339 in UTC with milliseconds, as the API expects. */
export function toRfc3339(date) {
  return date.toISOString();
}

function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

/** `2026-11-26 17:00:00.123` in the browser's local time zone. */
export function formatLocalTime(date, { ms = true } = {}) {
  if (!date) return '—';
  const base =
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  return ms ? `${base}.${pad(date.getMilliseconds(), 3)}` : base;
}

/** `UTC+07:00` for the browser's local offset at `date`. */
export function formatUtcOffset(date) {
  const off = -date.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const abs = Math.abs(off);
  return `UTC${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

/** Value for an `<input type="datetime-local" step="1">` (local time). */
export function toLocalInputValue(date) {
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** Parse a datetime-local value (local time, no zone) into a Date or null. */
export function fromLocalInputValue(value) {
  if (typeof value !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?$/.exec(value);
  if (!m) return null;
  const d = new Date(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0), 0);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Human label for a relative start (`now-15m` → `Last 15 minutes`). */
export function relativeLabel(expr) {
  const quick = QUICK_RANGES.find((r) => r.from === expr);
  if (quick) return quick.label;
  const rel = parseRelative(expr);
  if (!rel) return null;
  if (rel.amount === 0) return 'Now';
  const word = UNIT_WORD[rel.unit] + (rel.amount === 1 ? '' : 's');
  return `Last ${rel.amount} ${word}`;
}

/** Short label for the whole range, for the time picker button. */
export function rangeLabel(state) {
  if (state.to === 'now' && parseRelative(state.from)) return relativeLabel(state.from);
  const f = resolveTime(state.from, Date.now());
  const t = resolveTime(state.to, Date.now());
  const fs = parseRelative(state.from) ? state.from : f ? formatLocalTime(f, { ms: false }) : '?';
  const ts = parseRelative(state.to) ? state.to : t ? formatLocalTime(t, { ms: false }) : '?';
  return `${fs} → ${ts}`;
}

/** Human duration: 60000 → `1 minute`, 1800000 → `30 minutes`, 1500 → `1.5 seconds`. */
export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms <= 0) return '—';
  const units = [
    ['day', 86_400_000],
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1000],
  ];
  for (const [word, size] of units) {
    if (ms >= size) {
      const n = ms / size;
      const shown = Number.isInteger(n) ? String(n) : n.toFixed(1).replace(/\.0$/, '');
      return `${shown} ${word}${shown === '1' ? '' : 's'}`;
    }
  }
  return `${ms} ms`;
}

// ---------------------------------------------------------------------------
// URL hash state (shareable links, back/forward)
// ---------------------------------------------------------------------------

/**
 * Parse `#q=…&from=…&to=…&page=…&live=1`. Unknown keys are ignored; invalid
 * values fall back to defaults. Never evaluates anything.
 */
export function parseHash(hash) {
  const raw = typeof hash === 'string' ? hash.replace(/^#/, '') : '';
  let params;
  try {
    params = new URLSearchParams(raw);
  } catch {
    params = new URLSearchParams();
  }
  const state = { ...DEFAULT_STATE };
  const q = params.get('q');
  if (q !== null) state.q = q.slice(0, MAX_QUERY_LENGTH);
  const from = params.get('from');
  const to = params.get('to');
  if (from !== null && isValidTimeExpr(from)) state.from = from.trim();
  if (to !== null && isValidTimeExpr(to)) state.to = to.trim();
  const page = params.get('page');
  if (page !== null && /^\d{1,6}$/.test(page)) {
    state.page = Math.min(Math.max(Number(page), 1), MAX_PAGE);
  }
  state.live = params.get('live') === '1';
  return state;
}

/** Inverse of parseHash (without the leading `#`), in a stable key order. */
export function buildHash(state) {
  const p = new URLSearchParams();
  p.set('q', state.q || '');
  p.set('from', state.from || DEFAULT_STATE.from);
  p.set('to', state.to || DEFAULT_STATE.to);
  if (state.page && state.page > 1) p.set('page', String(state.page));
  if (state.live) p.set('live', '1');
  return p.toString();
}

/** Build a same-origin API URL with an encoded query string. */
export function apiUrl(path, params = {}) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === null) continue;
    p.set(k, String(v));
  }
  const qs = p.toString();
  return qs ? `${path}?${qs}` : path;
}

/** `/api/v1/fields/<field>/top` with the field name as one encoded path segment. */
export function topValuesPath(field) {
  return `/api/v1/fields/${encodeURIComponent(field)}/top`;
}

/** Offsets and labels for page `page` of `total` hits. */
export function pageInfo(total, page, limit = PAGE_SIZE) {
  const t = Number.isFinite(total) && total > 0 ? Math.floor(total) : 0;
  const pages = Math.max(1, Math.ceil(t / limit));
  const p = Math.min(Math.max(1, Math.floor(page) || 1), MAX_PAGE);
  const offset = (p - 1) * limit;
  const start = t === 0 || offset >= t ? 0 : offset + 1;
  const end = Math.min(offset + limit, t);
  return { page: p, pages, offset, start, end, hasPrev: p > 1, hasNext: p < pages };
}

// ---------------------------------------------------------------------------
// Query building (filter-for / filter-out)
// ---------------------------------------------------------------------------

const SAFE_FIELD_RE = /^[A-Za-z0-9_@][A-Za-z0-9_@.\-]*$/;

/**
 * A field name as it appears left of `:`. ECS names pass through; anything
 * else gets query-special characters backslash-escaped.
 */
export function escapeField(field) {
  const f = String(field);
  if (SAFE_FIELD_RE.test(f)) return f;
  return f.replace(/[\s\\:"'()[\]{}*?<>=!^~+\-/&|,]/g, (c) => '\\' + c);
}

/** A string as a quoted phrase: `"` and `\` are backslash-escaped. */
export function quoteValue(value) {
  return '"' + String(value).replace(/[\\"]/g, (c) => '\\' + c) + '"';
}

/** Finite numbers and booleans stay bare; everything else is a quoted phrase. */
export function formatClauseValue(value) {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return String(value);
  return quoteValue(value === null || value === undefined ? '' : value);
}

/** `field:"value"` or `NOT field:"value"`. */
export function buildClause(field, value, negate = false) {
  const c = `${escapeField(field)}:${formatClauseValue(value)}`;
  return negate ? `NOT ${c}` : c;
}

/**
 * Split a query into top-level tokens: whitespace separates tokens except
 * inside quotes (with backslash escapes), parentheses and range brackets.
 */
export function tokenizeTopLevel(query) {
  const tokens = [];
  let cur = '';
  let depth = 0;
  let inQuote = false;
  const s = String(query);
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (inQuote) {
      cur += c;
      if (c === '\\' && i + 1 < s.length) {
        cur += s[++i];
      } else if (c === '"') {
        inQuote = false;
      }
      continue;
    }
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[++i];
      continue;
    }
    if (c === '"') {
      inQuote = true;
      cur += c;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    if ((c === ')' || c === ']' || c === '}') && depth > 0) depth--;
    if (/\s/.test(c) && depth === 0) {
      if (cur) tokens.push(cur);
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur) tokens.push(cur);
  return tokens;
}

/** True if the query has an `OR` outside quotes/parentheses. */
export function hasTopLevelOr(query) {
  return tokenizeTopLevel(query).includes('OR');
}

function removeAt(tokens, index, count) {
  // Remove tokens[index .. index+count) plus one adjacent AND so the query
  // stays well formed.
  let start = index;
  let end = index + count;
  if (start > 0 && tokens[start - 1] === 'AND') start--;
  else if (end < tokens.length && tokens[end] === 'AND') end++;
  return tokens.slice(0, start).concat(tokens.slice(end));
}

/**
 * Add `field:"value"` (or `NOT field:"value"`) to `query` with AND.
 *  * an identical clause already present → query unchanged;
 *  * the opposite clause present at top level → it is replaced;
 *  * a query with a top-level OR is wrapped in parentheses first.
 */
export function appendClause(query, field, value, negate = false) {
  const positive = buildClause(field, value, false);
  const clause = negate ? `NOT ${positive}` : positive;
  const q = String(query || '').trim();
  if (!q) return clause;
  if (hasTopLevelOr(q)) return `(${q}) AND ${clause}`;

  let tokens = tokenizeTopLevel(q);
  const isNegAt = (i) => tokens[i] === positive && i > 0 && tokens[i - 1] === 'NOT';
  const isPosAt = (i) => tokens[i] === positive && !(i > 0 && tokens[i - 1] === 'NOT');

  for (let i = 0; i < tokens.length; i++) {
    if (negate && (isNegAt(i) || tokens[i] === '-' + positive)) return q;
    if (!negate && isPosAt(i)) return q;
  }
  // Drop the opposite clause, if present.
  for (let i = 0; i < tokens.length; i++) {
    if (negate && isPosAt(i)) {
      tokens = removeAt(tokens, i, 1);
      break;
    }
    if (!negate && isNegAt(i)) {
      tokens = removeAt(tokens, i - 1, 2);
      break;
    }
    if (!negate && tokens[i] === '-' + positive) {
      tokens = removeAt(tokens, i, 1);
      break;
    }
  }
  while (tokens.length && (tokens[0] === 'AND' || tokens[0] === 'OR')) tokens.shift();
  while (tokens.length && ['AND', 'OR', 'NOT'].includes(tokens[tokens.length - 1])) tokens.pop();
  if (!tokens.length) return clause;
  return `${tokens.join(' ')} AND ${clause}`;
}

// ---------------------------------------------------------------------------
// Event (hit) helpers
// ---------------------------------------------------------------------------

function isPlainObject(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Read an ECS field from a hit: the flat dotted key first (`"host.name"`),
 * then a nested path (`{host: {name}}`). Own properties only.
 */
export function getField(hit, path) {
  if (!isPlainObject(hit)) return undefined;
  if (Object.prototype.hasOwnProperty.call(hit, path)) return hit[path];
  let cur = hit;
  for (const part of path.split('.')) {
    if (!isPlainObject(cur) || !Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = cur[part];
  }
  return cur;
}

/**
 * Flatten a hit into sorted `[key, value]` pairs with dotted keys. Arrays
 * stay arrays (objects inside them become JSON text). `@timestamp` sorts
 * first; `event.original` is left out (the detail panel shows it raw).
 */
export function flattenHit(hit) {
  const out = [];
  const walk = (obj, prefix, depth) => {
    for (const [k, v] of Object.entries(obj)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (isPlainObject(v) && depth < 16) {
        if (Object.keys(v).length === 0) out.push([key, v]);
        else walk(v, key, depth + 1);
      } else if (Array.isArray(v)) {
        out.push([key, v.map((x) => (x !== null && typeof x === 'object' ? JSON.stringify(x) : x))]);
      } else {
        out.push([key, v]);
      }
    }
  };
  if (isPlainObject(hit)) walk(hit, '', 0);
  return out
    .filter(([k]) => k !== 'event.original')
    .sort(([a], [b]) => {
      if (a === '@timestamp') return -1;
      if (b === '@timestamp') return 1;
      return a < b ? -1 : a > b ? 1 : 0;
    });
}

/** Display text for one scalar value. */
export function displayValue(v) {
  if (v === null) return 'null';
  if (v === undefined) return '';
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v);
    } catch {
      return String(v);
    }
  }
  return String(v);
}

/** `["authentication","iam"]` → `authentication, iam`; scalars → text. */
export function displayList(v) {
  if (Array.isArray(v)) return v.map(displayValue).join(', ');
  return displayValue(v);
}

// C0/C1 controls (except tab/newline), zero-width characters, bidi embeddings,
// overrides and isolates, BOM. Attackers use these to spoof file names
// (`invoice\u202Etxt.exe`) or hide text; the UI shows them as ⟨U+XXXX⟩.
const INVISIBLE_RE =
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u206F\uFEFF]/g;

/**
 * Text that is safe to *look at*: invisible and direction-changing
 * characters become visible `⟨U+202E⟩` markers, and long text is cut at
 * `max` characters. Single-line mode also shows newlines as `↵` and tabs as
 * a space. (Rendering is already inert — this is about spoofing.)
 */
export function revealText(value, { multiline = false, max = Infinity } = {}) {
  const full = typeof value === 'string' ? value : displayValue(value);
  let s = full;
  let cut = false;
  if (s.length > max) {
    s = s.slice(0, max);
    cut = true;
  }
  s = s.replace(/\r\n/g, '\n');
  s = s.replace(INVISIBLE_RE, (c) => `⟨U+${c.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}⟩`);
  s = s.replace(/\r/g, '⟨U+000D⟩');
  if (!multiline) s = s.replace(/\n/g, '↵').replace(/\t/g, ' ');
  return cut ? `${s}… [${formatCount(full.length - max)} more characters]` : s;
}

/** Values that a filter-for/filter-out button can target. */
export function isFilterable(v) {
  return typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}

/** Sort hits newest first (stable; unparseable timestamps last). */
export function sortNewestFirst(hits) {
  return hits
    .map((h, i) => ({ h, i, t: parseTimestamp(getField(h, '@timestamp'))?.getTime() ?? -Infinity }))
    .sort((a, b) => b.t - a.t || a.i - b.i)
    .map((x) => x.h);
}

/** Maps event.outcome to a fixed CSS class (never data in class names). */
export function outcomeClass(outcome) {
  switch (outcome) {
    case 'success':
      return 'badge badge-ok';
    case 'failure':
      return 'badge badge-bad';
    default:
      return 'badge badge-neutral';
  }
}

/** `1234` → `1,234`. */
export function formatCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  return Math.round(n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

// ---------------------------------------------------------------------------
// Histogram helpers
// ---------------------------------------------------------------------------

const NICE_STEPS = [1, 1.2, 1.6, 2, 3, 4, 5, 6, 8, 10];

/**
 * The y-axis maximum: the smallest of 1, 2, 4, 6, 8, 10 (below 10) or
 * 1, 1.2, 1.6, 2, 3, 4, 5, 6, 8 ×10^k (from 10) that is ≥ n. Always an
 * integer, and from 2 on its half is one too (the mid grid line).
 */
export function niceMax(n) {
  if (!Number.isFinite(n) || n <= 1) return 1;
  if (n <= 10) return 2 * Math.ceil(n / 2);
  const exp = Math.floor(Math.log10(n));
  const base = 10 ** exp;
  for (const m of NICE_STEPS) {
    const v = Math.round(m * base);
    if (v >= n) return v;
  }
  return 10 * base;
}

/**
 * Label for a bucket start on the x axis. Precision follows the bucket
 * interval; the date is shown once the range spans more than a day.
 */
export function formatBucketLabel(date, intervalMs, spanMs) {
  const hm = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const dm = `${pad(date.getDate())}/${pad(date.getMonth() + 1)}`;
  if (intervalMs >= 86_400_000) return dm;
  if (spanMs > 86_400_000) return `${dm} ${hm}`;
  if (intervalMs < 60_000) return `${hm}:${pad(date.getSeconds())}`;
  return hm;
}

/** Tooltip text for a bucket: `2026-11-26 17:00:00 – 17:01:00`. */
export function formatBucketRange(start, intervalMs) {
  const end = new Date(start.getTime() + intervalMs);
  const a = formatLocalTime(start, { ms: false });
  const b = formatLocalTime(end, { ms: false });
  const sameDay = a.slice(0, 10) === b.slice(0, 10);
  return `${a} – ${sameDay ? b.slice(11) : b}`;
}

/** Show every `n`-th label so labels are at least `minPx` apart. */
export function labelStep(barWidthPx, minPx = 70) {
  if (!(barWidthPx > 0)) return 1;
  return Math.max(1, Math.ceil(minPx / barWidthPx));
}

/** Bucket index under x (clamped), for a plot starting at `left` of `width` px. */
export function bucketIndexAt(x, left, width, count) {
  if (count <= 0 || width <= 0) return -1;
  const i = Math.floor(((x - left) / width) * count);
  return Math.min(Math.max(i, 0), count - 1);
}

/**
 * Time range covering buckets i0..i1 (either order). Returns RFC 3339
 * strings, or null when the buckets are unusable.
 */
export function zoomRange(buckets, intervalMs, i0, i1) {
  if (!Array.isArray(buckets) || !buckets.length) return null;
  const lo = Math.max(0, Math.min(i0, i1));
  const hi = Math.min(buckets.length - 1, Math.max(i0, i1));
  const start = parseTimestamp(buckets[lo] && buckets[lo].t);
  const last = parseTimestamp(buckets[hi] && buckets[hi].t);
  if (!start || !last || !(intervalMs > 0)) return null;
  return { from: toRfc3339(start), to: toRfc3339(new Date(last.getTime() + intervalMs)) };
}

/** Validate/normalise the histogram response. */
export function normaliseHistogram(body) {
  const intervalMs = Number(body && body.interval_ms);
  const list = body && Array.isArray(body.buckets) ? body.buckets : [];
  const buckets = [];
  for (const b of list) {
    const t = parseTimestamp(b && b.t);
    const count = Number(b && b.count);
    if (!t) continue;
    buckets.push({ t: toRfc3339(t), date: t, count: Number.isFinite(count) && count > 0 ? count : 0 });
  }
  return { intervalMs: Number.isFinite(intervalMs) && intervalMs > 0 ? intervalMs : 0, buckets };
}

// ---------------------------------------------------------------------------
// Alerts view: pure helpers
// ---------------------------------------------------------------------------

export const ALERTS_PAGE_SIZE = 100;
/** Most rows kept in the live list (older ones drop off the bottom). */
export const ALERTS_MAX_ROWS = 1000;
export const MAX_ALERT_TEXT = 256;
export const MAX_COMMENT = 4000;
export const SEVERITY_LEVELS = Object.freeze(['informational', 'low', 'medium', 'high', 'critical']);
/** Score of each level (the API's severity mapping). */
export const SEVERITY_SCORE = Object.freeze({ informational: 1, low: 21, medium: 47, high: 73, critical: 99 });
export const DETECTION_KINDS = Object.freeze(['sigma', 'correlation', 'ioc', 'anomaly']);
/** Status filter choices → API statuses (`active` is the default queue: not closed). */
export const STATUS_FILTERS = Object.freeze({
  active: Object.freeze(['open', 'acknowledged']),
  open: Object.freeze(['open']),
  acknowledged: Object.freeze(['acknowledged']),
  closed: Object.freeze(['closed']),
  any: Object.freeze([]),
});
export const DEFAULT_ALERTS_STATE = Object.freeze({ status: 'active', severity: '', kind: '', q: '', id: '' });
const ALERT_ID_RE = /^[A-Za-z0-9_-]{1,128}$/;
const ACTOR_RE = /^[\p{L}\p{N}._@-]{1,64}$/u;

/** True if the hash is a route to the alerts view (`#view=alerts…`). */
export function isAlertsHash(hash) {
  const raw = typeof hash === 'string' ? hash.replace(/^#/, '') : '';
  try {
    return new URLSearchParams(raw).get('view') === 'alerts';
  } catch {
    return false;
  }
}

/** Parse `#view=alerts&status=…&severity=…&kind=…&q=…&id=…`; invalid values → defaults. */
export function parseAlertsHash(hash) {
  const raw = typeof hash === 'string' ? hash.replace(/^#/, '') : '';
  let p;
  try {
    p = new URLSearchParams(raw);
  } catch {
    p = new URLSearchParams();
  }
  const s = { ...DEFAULT_ALERTS_STATE };
  const status = p.get('status');
  if (status !== null && Object.prototype.hasOwnProperty.call(STATUS_FILTERS, status)) s.status = status;
  const sev = p.get('severity');
  if (sev !== null && SEVERITY_LEVELS.includes(sev)) s.severity = sev;
  const kind = p.get('kind');
  if (kind !== null && DETECTION_KINDS.includes(kind)) s.kind = kind;
  const q = p.get('q');
  if (q !== null) s.q = q.slice(0, MAX_ALERT_TEXT);
  const id = p.get('id');
  if (id !== null && ALERT_ID_RE.test(id)) s.id = id;
  return s;
}

/** Inverse of parseAlertsHash (without `#`), defaults left out, stable key order. */
export function buildAlertsHash(state) {
  const p = new URLSearchParams();
  p.set('view', 'alerts');
  if (state.status && state.status !== DEFAULT_ALERTS_STATE.status) p.set('status', state.status);
  if (state.severity) p.set('severity', state.severity);
  if (state.kind) p.set('kind', state.kind);
  if (state.q) p.set('q', state.q);
  if (state.id) p.set('id', state.id);
  return p.toString();
}

/** `GET /api/v1/alerts` URL for the filters (and the next page's cursor). */
export function alertsListUrl(state, cursor) {
  const statuses = STATUS_FILTERS[state.status] || STATUS_FILTERS.active;
  return apiUrl('/api/v1/alerts', {
    status: statuses.length ? statuses.join(',') : undefined,
    severity: state.severity || undefined,
    kind: state.kind || undefined,
    q: state.q ? state.q.trim() || undefined : undefined,
    limit: ALERTS_PAGE_SIZE,
    cursor: cursor || undefined,
  });
}

/** `/api/v1/alerts/<id>[/<action>]` with the id as one encoded path segment. */
export function alertPath(id, action) {
  const base = `/api/v1/alerts/${encodeURIComponent(String(id))}`;
  return action ? `${base}/${action}` : base;
}

/** Whether a (live) alert belongs in the list filtered by `state` (mirrors the API filters). */
export function alertMatches(alert, state) {
  if (!isPlainObject(alert) || typeof alert.id !== 'string') return false;
  const statuses = STATUS_FILTERS[state.status] || STATUS_FILTERS.active;
  if (statuses.length && !statuses.includes(alert.status)) return false;
  if (state.severity) {
    const score = Number(alert.severity && alert.severity.score);
    if (!(score >= SEVERITY_SCORE[state.severity])) return false;
  }
  if (state.kind && alert.kind !== state.kind) return false;
  const q = (state.q || '').trim().toLowerCase();
  if (q) {
    const hay = [alert.rule_title, alert.rule_id, ...Object.values(isPlainObject(alert.entity) ? alert.entity : {})]
      .filter((x) => typeof x === 'string')
      .map((x) => x.toLowerCase());
    if (!hay.some((x) => x.includes(q))) return false;
  }
  return true;
}

function lastSeenMs(a) {
  return parseTimestamp(a && a.last_seen)?.getTime() ?? -Infinity;
}

/**
 * Merge one live alert into the list (newest last_seen first). Returns
 * `{ list, change }` where change is `added`, `updated`, `removed` (it no
 * longer matches the filters) or `stale` (an older copy than the one shown).
 */
export function mergeAlert(list, alert, state) {
  const i = list.findIndex((a) => a.id === alert.id);
  if (i >= 0 && Number(list[i].revision) > Number(alert.revision)) return { list, change: 'stale' };
  const rest = i >= 0 ? list.slice(0, i).concat(list.slice(i + 1)) : list.slice();
  if (!alertMatches(alert, state)) return { list: rest, change: i >= 0 ? 'removed' : 'stale' };
  const t = lastSeenMs(alert);
  let at = rest.findIndex((a) => lastSeenMs(a) <= t);
  if (at < 0) at = rest.length;
  rest.splice(at, 0, alert);
  if (rest.length > ALERTS_MAX_ROWS) rest.length = ALERTS_MAX_ROWS;
  return { list: rest, change: i >= 0 ? 'updated' : 'added' };
}

/** Fixed CSS class for a severity label (never data in class names). */
export function severityClass(label) {
  return SEVERITY_LEVELS.includes(label) ? `sev sev-${label}` : 'sev sev-unknown';
}

/** Fixed CSS class for a workflow status. */
export function statusClass(status) {
  return ['open', 'acknowledged', 'closed'].includes(status) ? `st st-${status}` : 'st st-unknown';
}

/** `host.name=web01 user.name=root` (tenant left out), or a flood summary's description. */
export function entityText(alert) {
  if (!isPlainObject(alert)) return '';
  if (isPlainObject(alert.flood)) {
    const n = Array.isArray(alert.flood.sample) ? alert.flood.sample.length : 0;
    return `flood summary: ${n} entit${n === 1 ? 'y' : 'ies'} sampled${alert.flood.more ? ', more' : ''}`;
  }
  const ent = isPlainObject(alert.entity) ? alert.entity : {};
  const parts = Object.keys(ent)
    .filter((k) => k !== 'organization.id')
    .sort()
    .map((k) => `${k}=${displayValue(ent[k])}`);
  return parts.length ? parts.join(' ') : '—';
}

/** ATT&CK technique and sub-technique ids of an alert (`T1110`, `T1110.001`). */
export function techniqueIds(alert) {
  const list = alert && alert.threat && Array.isArray(alert.threat.techniques) ? alert.threat.techniques : [];
  const out = [];
  for (const t of list) {
    if (!isPlainObject(t)) continue;
    for (const id of [t.parent, t.id]) {
      if (typeof id === 'string' && /^T\d{4}(\.\d{3})?$/.test(id) && !out.includes(id)) out.push(id);
    }
  }
  return out;
}

/**
 * The search-view hash that finds one matched event: `event.id:"<id>"` over
 * the alert's first/last seen, widened by a minute on each side.
 */
export function eventSearchHash(eventId, alert) {
  const first = parseTimestamp(alert && alert.first_seen);
  const last = parseTimestamp(alert && alert.last_seen);
  const range =
    first && last
      ? { from: toRfc3339(new Date(first.getTime() - 60_000)), to: toRfc3339(new Date(last.getTime() + 60_000)) }
      : { from: 'now-30d', to: 'now' };
  return buildHash({ q: buildClause('event.id', String(eventId)), ...range, page: 1, live: false });
}

/** The workflow buttons an alert in `status` offers: `[targetStatus, label]`. */
export function workflowActions(status) {
  switch (status) {
    case 'open':
      return [['acknowledged', 'Acknowledge'], ['closed', 'Close']];
    case 'acknowledged':
      return [['closed', 'Close'], ['open', 'Back to open']];
    case 'closed':
      return [['open', 'Reopen']];
    default:
      return [];
  }
}

/** Whether `name` is a valid `X-Sen-User` (same rule as the API). */
export function isValidActor(name) {
  return typeof name === 'string' && ACTOR_RE.test(name);
}

/** One line of history as text: `lan: acknowledged → closed`, `minh assigned lan`, … */
export function historyText(h) {
  if (!isPlainObject(h)) return '';
  const who = displayValue(h.actor);
  switch (h.action) {
    case 'created':
      return 'Alert created by detection';
    case 'status':
      return `${who} changed status ${displayValue(h.from)} → ${displayValue(h.to)}`;
    case 'assign':
      if (h.to === null || h.to === undefined) return `${who} unassigned ${displayValue(h.from)}`;
      return `${who} assigned ${displayValue(h.to)}`;
    case 'comment':
      return `${who} commented`;
    default:
      return `${who}: ${displayValue(h.action)}`;
  }
}

// ---------------------------------------------------------------------------
// Browser code
// ---------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

async function fetchJson(url, signal, init = {}) {
  let res;
  try {
    res = await fetch(url, {
      signal,
      method: init.method || 'GET',
      body: init.body,
      headers: { Accept: 'application/json', ...(init.headers || {}) },
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError('Cannot reach the Sen API (network error)', 0, null);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const msg =
      body && typeof body.error === 'string' && body.error
        ? body.error
        : `HTTP ${res.status}${res.statusText ? ' ' + res.statusText : ''}`;
    throw new ApiError(msg, res.status, body);
  }
  if (body === null || typeof body !== 'object') {
    throw new ApiError('The API returned a response that is not JSON', res.status, null);
  }
  return body;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Create an element. `text` is set with textContent. `attrs` are for
 * static, code-chosen attributes (ids, roles, aria labels, tabindex); the
 * only attribute that may carry data is `title` (inert text).
 */
function el(tag, opts = {}, children = []) {
  const node = document.createElement(tag);
  if (opts.cls) node.className = opts.cls;
  if (opts.text !== undefined) node.textContent = opts.text;
  if (opts.title !== undefined) node.title = opts.title;
  if (opts.attrs) for (const [k, v] of Object.entries(opts.attrs)) node.setAttribute(k, v);
  for (const c of children) if (c) node.append(c);
  return node;
}

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function isTypingTarget(t) {
  if (!t || !t.tagName) return false;
  const tag = t.tagName.toLowerCase();
  return tag === 'input' || tag === 'textarea' || tag === 'select' || t.isContentEditable;
}

function startApp() {
  const $ = (id) => document.getElementById(id);
  const dom = {
    form: $('search-form'),
    q: $('q'),
    qError: $('q-error'),
    helpBtn: $('help-btn'),
    help: $('help'),
    timeBtn: $('time-btn'),
    timeLabel: $('time-label'),
    timePop: $('time-pop'),
    quick: $('quick-ranges'),
    absFrom: $('abs-from'),
    absTo: $('abs-to'),
    absApply: $('abs-apply'),
    absError: $('abs-error'),
    live: $('live'),
    health: $('health'),
    healthText: $('health-text'),
    histSvg: $('hist'),
    histWrap: $('hist-wrap'),
    histMeta: $('hist-meta'),
    histMsg: $('hist-msg'),
    histReset: $('hist-reset'),
    fields: $('fields'),
    total: $('total'),
    took: $('took'),
    updated: $('updated'),
    tbody: $('rows'),
    results: $('results'),
    resultsMsg: $('results-msg'),
    tzHead: $('tz-head'),
    pager: $('pager'),
    pageText: $('page-text'),
    firstBtn: $('page-first'),
    prevBtn: $('page-prev'),
    nextBtn: $('page-next'),
    detail: $('detail'),
    detailTitle: $('detail-title'),
    detailSub: $('detail-sub'),
    detailFields: $('detail-fields'),
    detailRaw: $('detail-raw'),
    detailRawSection: $('detail-raw-section'),
    detailClose: $('detail-close'),
    copyRaw: $('copy-raw'),
    progress: $('progress'),
    querybar: $('querybar'),
    searchLayout: $('search-layout'),
    navSearch: $('nav-search'),
    navAlerts: $('nav-alerts'),
    alertsBadge: $('alerts-badge'),
    alertsView: $('alerts-view'),
    alertsFilters: $('alerts-filters'),
    afStatus: $('af-status'),
    afSeverity: $('af-severity'),
    afKind: $('af-kind'),
    afQ: $('af-q'),
    alertsNew: $('alerts-new'),
    alertsLive: $('alerts-live'),
    alertsLiveText: $('alerts-live-text'),
    alertsError: $('alerts-error'),
    alertsCard: $('alerts-card'),
    alertsTotal: $('alerts-total'),
    alertsNote: $('alerts-note'),
    alertRows: $('alert-rows'),
    alertsMsg: $('alerts-msg'),
    alertsPageText: $('alerts-page-text'),
    alertsMore: $('alerts-more'),
    alertDetail: $('alert-detail'),
    adTitle: $('ad-title'),
    adSub: $('ad-sub'),
    adClose: $('ad-close'),
    adUser: $('ad-user'),
    adComment: $('ad-comment'),
    adStatusBtns: $('ad-status-btns'),
    adAssignee: $('ad-assignee'),
    adAssign: $('ad-assign'),
    adCommentBtn: $('ad-comment-btn'),
    adError: $('ad-error'),
    adFields: $('ad-fields'),
    adEvents: $('ad-events'),
    adEventsNote: $('ad-events-note'),
    adHistory: $('ad-history'),
  };

  // Which view the URL shows: `#view=alerts…` is the alert queue, anything else the search.
  let view = isAlertsHash(location.hash) ? 'alerts' : 'search';
  let state = parseHash(view === 'alerts' ? '' : location.hash);
  let lastSearchHash = view === 'search' ? location.hash.replace(/^#/, '') : '';
  let seq = 0;
  let controller = null;
  let inFlight = false;
  let lastHits = [];
  let lastHistogram = null;
  let lastRange = null;
  let selectedIndex = -1;
  let detailHit = null;
  let liveTimer = null;

  dom.tzHead.textContent = `Time (${formatUtcOffset(new Date())})`;

  // ----- state / navigation -------------------------------------------------

  function navigate(patch) {
    const next = { ...state, ...patch };
    const h = buildHash(next);
    if (location.hash.replace(/^#/, '') === h) {
      state = next;
      syncControls();
      runSearch();
    } else {
      location.hash = h; // → hashchange → onHashChange
    }
  }

  function onHashChange() {
    if (isAlertsHash(location.hash)) {
      showAlerts(parseAlertsHash(location.hash));
      return;
    }
    showView('search');
    state = parseHash(location.hash);
    syncControls();
    runSearch();
  }

  function showView(v) {
    view = v;
    const alerts = v === 'alerts';
    dom.querybar.hidden = alerts;
    dom.searchLayout.hidden = alerts;
    dom.alertsView.hidden = !alerts;
    if (alerts) {
      dom.detail.hidden = true;
    } else {
      dom.alertDetail.hidden = true;
    }
    document.body.classList.toggle('view-alerts', alerts);
    document.body.classList.toggle('has-detail', alerts ? !dom.alertDetail.hidden : !dom.detail.hidden);
    dom.navSearch.classList.toggle('is-active', !alerts);
    dom.navAlerts.classList.toggle('is-active', alerts);
    if (alerts) {
      dom.navAlerts.setAttribute('aria-current', 'page');
      dom.navSearch.removeAttribute('aria-current');
    } else {
      dom.navSearch.setAttribute('aria-current', 'page');
      dom.navAlerts.removeAttribute('aria-current');
    }
  }

  function syncControls() {
    if (dom.q.value !== state.q) dom.q.value = state.q;
    dom.timeLabel.textContent = rangeLabel(state);
    dom.live.checked = state.live;
    dom.histReset.hidden = !(state.to !== 'now' || !parseRelative(state.from));
    for (const b of dom.quick.querySelectorAll('button')) {
      b.setAttribute('aria-pressed', String(state.to === 'now' && b.dataset.from === state.from));
    }
    setLiveTimer();
    lastSearchHash = location.hash.replace(/^#/, '') || buildHash(state);
    // Which URL state the controls show (lets tests and tools wait for a navigation to apply).
    document.documentElement.dataset.synced = location.hash.replace(/^#/, '');
  }

  function currentQueryInput() {
    return dom.q.value.slice(0, MAX_QUERY_LENGTH);
  }

  function addFilter(field, value, negate) {
    // Build on what is in the box (it may have unsaved edits).
    const q = appendClause(currentQueryInput(), field, value, negate);
    dom.q.value = q;
    navigate({ q, page: 1 });
  }

  // ----- loading / errors ---------------------------------------------------

  function setLoading(on) {
    document.body.classList.toggle('is-loading', on);
    dom.results.setAttribute('aria-busy', String(on));
    dom.progress.hidden = !on;
  }

  function showQueryError(message, body) {
    dom.qError.textContent = message;
    dom.qError.hidden = false;
    dom.q.setAttribute('aria-invalid', 'true');
    const pos = body && Number.isInteger(body.position) ? body.position : null;
    if (pos !== null && pos >= 0 && pos <= dom.q.value.length && document.activeElement === dom.q) {
      dom.q.setSelectionRange(pos, Math.min(pos + 1, dom.q.value.length));
    }
  }

  function clearQueryError() {
    dom.qError.textContent = '';
    dom.qError.hidden = true;
    dom.q.removeAttribute('aria-invalid');
  }

  // ----- search -------------------------------------------------------------

  async function runSearch() {
    const my = ++seq;
    if (controller) controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    let timedOut = false;
    const timeout = setTimeout(() => {
      if (my === seq && controller) {
        timedOut = true;
        controller.abort();
      }
    }, REQUEST_TIMEOUT_MS);
    // Aborted because a newer search started → ignore; aborted by our own
    // timer → report it like any other failure.
    const failure = (e) => {
      if (my !== seq) return null;
      if (e && e.name === 'AbortError') {
        return timedOut ? new ApiError(`The API did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`, 0, null) : null;
      }
      return e;
    };

    const range = resolveRange(state, Date.now());
    if (range.error) {
      clearTimeout(timeout);
      showQueryError(range.error);
      return;
    }
    lastRange = range;
    const common = { q: state.q, from: toRfc3339(range.from), to: toRfc3339(range.to) };
    const info = pageInfo(Infinity, state.page);

    inFlight = true;
    setLoading(true);
    const current = () => my === seq;

    const searchP = fetchJson(apiUrl('/api/v1/search', { ...common, limit: PAGE_SIZE, offset: info.offset }), signal)
      .then((body) => {
        if (!current()) return;
        clearQueryError();
        renderResults(body);
      })
      .catch((err) => {
        const e = failure(err);
        if (!e) return;
        if (e.status === 400) showQueryError(e.message, e.body);
        else showQueryError(e.status ? `Search failed: ${e.message}` : e.message);
        renderResultsError(e);
      });

    const histP = fetchJson(apiUrl('/api/v1/histogram', { ...common, buckets: HISTOGRAM_BUCKETS }), signal)
      .then((body) => {
        if (!current()) return;
        lastHistogram = normaliseHistogram(body);
        renderHistogram();
      })
      .catch((err) => {
        const e = failure(err);
        if (!e) return;
        lastHistogram = null;
        if (e.status === 400) renderHistogram('No histogram: the query has an error.');
        else renderHistogram(`Histogram unavailable: ${e.message}`, true);
      });

    const topP = TOP_FIELDS.map((field) =>
      fetchJson(apiUrl(topValuesPath(field), { ...common, size: TOP_SIZE }), signal)
        .then((body) => current() && renderTopValues(field, body))
        .catch((err) => {
          const e = failure(err);
          if (!e) return;
          renderTopValues(field, null, e.status === 400 ? 'Query error' : e.message);
        }),
    );

    await Promise.allSettled([searchP, histP, ...topP]);
    clearTimeout(timeout);
    if (current()) {
      inFlight = false;
      setLoading(false);
    }
  }

  // ----- results table ------------------------------------------------------

  function renderResults(body) {
    const total = Number(body.total);
    const hits = Array.isArray(body.hits) ? body.hits.filter(isPlainObject) : [];
    lastHits = sortNewestFirst(hits);
    const info = pageInfo(Number.isFinite(total) ? total : lastHits.length, state.page);

    dom.total.textContent = `${formatCount(Number.isFinite(total) ? total : lastHits.length)} events`;
    dom.took.textContent = Number.isFinite(Number(body.took_ms)) ? `in ${formatCount(Number(body.took_ms))} ms` : '';
    dom.updated.textContent = `updated ${formatLocalTime(new Date(), { ms: false }).slice(11)}`;

    const rows = lastHits.map((hit, i) => buildRow(hit, i));
    dom.tbody.replaceChildren(...rows);
    selectedIndex = -1;
    if (detailHit) {
      const idx = lastHits.findIndex((h) => getField(h, 'event.id') !== undefined && getField(h, 'event.id') === getField(detailHit, 'event.id'));
      if (idx >= 0) markSelected(idx);
    }

    if (!lastHits.length) {
      dom.resultsMsg.hidden = false;
      dom.resultsMsg.className = 'results-msg';
      dom.resultsMsg.replaceChildren(
        el('strong', { text: info.offset > 0 && total > 0 ? 'No events on this page.' : 'No events match.' }),
        el('span', { text: ' Try a wider time range or a simpler query.' }),
      );
    } else {
      dom.resultsMsg.hidden = true;
      dom.resultsMsg.replaceChildren();
    }

    dom.pageText.textContent = info.start
      ? `${formatCount(info.start)}–${formatCount(info.end)} of ${formatCount(total)} · page ${formatCount(info.page)} of ${formatCount(info.pages)}`
      : `page ${formatCount(info.page)} of ${formatCount(info.pages)}`;
    dom.firstBtn.disabled = !info.hasPrev;
    dom.prevBtn.disabled = !info.hasPrev;
    dom.nextBtn.disabled = !info.hasNext;
  }

  function renderResultsError(e) {
    dom.tbody.replaceChildren();
    lastHits = [];
    dom.total.textContent = '— events';
    dom.took.textContent = '';
    dom.updated.textContent = '';
    dom.resultsMsg.hidden = false;
    dom.resultsMsg.className = 'results-msg is-error';
    dom.resultsMsg.replaceChildren(
      el('strong', { text: e.status === 400 ? 'Query error: ' : 'Search failed: ' }),
      el('span', { text: e.message }),
    );
    dom.pageText.textContent = '';
    dom.firstBtn.disabled = dom.prevBtn.disabled = dom.nextBtn.disabled = true;
  }

  function buildRow(hit, index) {
    const ts = parseTimestamp(getField(hit, '@timestamp'));
    const host = getField(hit, 'host.name');
    const org = getField(hit, 'organization.id');
    const cat = getField(hit, 'event.category');
    const outcome = getField(hit, 'event.outcome');
    let message = getField(hit, 'message');
    if (message === undefined || message === null || message === '') message = getField(hit, 'event.original');

    const tr = el('tr', { attrs: { tabindex: '0' } });
    tr.dataset.index = String(index);

    const cell = (v) => revealText(displayList(v), { max: CELL_MAX });
    const timeText = ts ? formatLocalTime(ts) : cell(getField(hit, '@timestamp'));
    tr.append(
      el('td', { cls: 'c-time mono', text: timeText }),
      el('td', { cls: 'c-host', text: cell(host), title: cell(host) }),
      el('td', { cls: 'c-org', text: cell(org), title: cell(org) }),
    );
    // Outcome badge first: it is the stronger signal and must not be cut off.
    const catCell = el('td', { cls: 'c-cat', title: [cell(outcome), cell(cat)].filter(Boolean).join(' · ') });
    if (typeof outcome === 'string' && outcome) catCell.append(el('span', { cls: outcomeClass(outcome), text: cell(outcome) }));
    if (cat !== undefined && cat !== null && cat !== '') catCell.append(el('span', { cls: 'cat', text: cell(cat) }));
    tr.append(catCell);
    const msgText = cell(message);
    tr.append(el('td', { cls: 'c-msg', text: msgText, title: msgText }));
    return tr;
  }

  function markSelected(index) {
    for (const r of dom.tbody.querySelectorAll('tr.is-selected')) r.classList.remove('is-selected');
    selectedIndex = index;
    const row = dom.tbody.children[index];
    if (row) row.classList.add('is-selected');
  }

  function onRowActivate(e) {
    const tr = e.target.closest('tr');
    if (!tr || !dom.tbody.contains(tr)) return;
    const i = Number(tr.dataset.index);
    if (!Number.isInteger(i) || !lastHits[i]) return;
    markSelected(i);
    openDetail(lastHits[i]);
  }

  function focusRow(delta) {
    const rows = dom.tbody.children;
    if (!rows.length) return;
    const cur = document.activeElement && document.activeElement.closest ? document.activeElement.closest('tr') : null;
    let i = cur && dom.tbody.contains(cur) ? Number(cur.dataset.index) + delta : delta > 0 ? 0 : rows.length - 1;
    i = Math.min(Math.max(i, 0), rows.length - 1);
    rows[i].focus();
    if (!dom.detail.hidden && lastHits[i]) {
      markSelected(i);
      openDetail(lastHits[i], { keepFocus: true });
    }
  }

  // ----- detail panel -------------------------------------------------------

  function filterButtons(field, value) {
    const wrap = el('span', { cls: 'filter-btns' });
    const plus = el('button', {
      cls: 'icon-btn',
      text: '+',
      attrs: { type: 'button', 'aria-label': 'Filter for this value' },
      title: 'Filter for value',
    });
    const minus = el('button', {
      cls: 'icon-btn',
      text: '−',
      attrs: { type: 'button', 'aria-label': 'Filter out this value' },
      title: 'Filter out value',
    });
    plus.addEventListener('click', () => addFilter(field, value, false));
    minus.addEventListener('click', () => addFilter(field, value, true));
    wrap.append(plus, minus);
    return wrap;
  }

  function valueLine(field, v) {
    const line = el('div', { cls: 'kv-val' });
    const text = el('span', {
      cls: v === null ? 'val-text is-null' : 'val-text',
      text: revealText(v, { multiline: true, max: DETAIL_MAX }),
    });
    if (v === '') text.append(el('span', { cls: 'muted', text: '(empty string)' }));
    line.append(text);
    if (isFilterable(v)) line.append(filterButtons(field, v));
    return line;
  }

  function openDetail(hit, { keepFocus = false } = {}) {
    detailHit = hit;
    const ts = parseTimestamp(getField(hit, '@timestamp'));
    dom.detailTitle.textContent = ts ? formatLocalTime(ts) : 'Event';
    const id = getField(hit, 'event.id');
    const host = getField(hit, 'host.name');
    dom.detailSub.textContent = [
      host !== undefined ? revealText(displayList(host), { max: CELL_MAX }) : '',
      id !== undefined ? `event.id ${revealText(id, { max: CELL_MAX })}` : '',
    ]
      .filter(Boolean)
      .join(' · ');

    const rows = flattenHit(hit).map(([key, value]) => {
      const tr = el('tr');
      tr.append(el('th', { cls: 'mono', text: revealText(key, { max: CELL_MAX }), attrs: { scope: 'row' } }));
      const td = el('td');
      if (Array.isArray(value)) {
        if (!value.length) td.append(el('span', { cls: 'muted', text: '[] (empty list)' }));
        for (const v of value) td.append(valueLine(key, v));
      } else {
        td.append(valueLine(key, value));
      }
      tr.append(td);
      return tr;
    });
    dom.detailFields.replaceChildren(...rows);

    const raw = getField(hit, 'event.original');
    if (raw === undefined || raw === null || raw === '') {
      dom.detailRawSection.hidden = true;
      dom.detailRaw.textContent = '';
    } else {
      dom.detailRawSection.hidden = false;
      dom.detailRaw.textContent = revealText(raw, { multiline: true, max: DETAIL_MAX });
    }
    dom.copyRaw.textContent = 'Copy';
    dom.detail.hidden = false;
    document.body.classList.add('has-detail');
    dom.detail.scrollTop = 0;
    if (!keepFocus) dom.detailClose.focus();
  }

  function closeDetail() {
    if (dom.detail.hidden) return;
    dom.detail.hidden = true;
    document.body.classList.remove('has-detail');
    detailHit = null;
    const row = dom.tbody.children[selectedIndex];
    for (const r of dom.tbody.querySelectorAll('tr.is-selected')) r.classList.remove('is-selected');
    if (row) row.focus();
  }

  async function copyRaw() {
    // Copy the original bytes, not the ⟨U+…⟩-revealed display text.
    const raw = detailHit ? getField(detailHit, 'event.original') : undefined;
    const text = raw === undefined || raw === null ? dom.detailRaw.textContent : displayValue(raw);
    try {
      await navigator.clipboard.writeText(text);
      dom.copyRaw.textContent = 'Copied';
    } catch {
      // Not a secure context: select the text so Ctrl+C works.
      const sel = window.getSelection();
      const r = document.createRange();
      r.selectNodeContents(dom.detailRaw);
      sel.removeAllRanges();
      sel.addRange(r);
      dom.copyRaw.textContent = 'Selected — press Ctrl+C';
    }
  }

  // ----- sidebar: top values ------------------------------------------------

  const fieldBoxes = new Map();
  for (const field of TOP_FIELDS) {
    const list = el('ol', { cls: 'top-list' });
    const meta = el('span', { cls: 'field-meta' });
    const box = el('section', { cls: 'field-box' }, [
      el('h3', { cls: 'field-name mono', text: field }, [meta]),
      list,
    ]);
    fieldBoxes.set(field, { box, list, meta });
    dom.fields.append(box);
  }

  function renderTopValues(field, body, errorText) {
    const fb = fieldBoxes.get(field);
    if (!fb) return;
    if (!body) {
      fb.meta.textContent = '';
      fb.list.replaceChildren(el('li', { cls: 'top-empty is-error', text: errorText || 'unavailable' }));
      return;
    }
    const values = Array.isArray(body.values) ? body.values.filter(isPlainObject) : [];
    const other = Number(body.other) > 0 ? Number(body.other) : 0;
    const sum = values.reduce((s, v) => s + (Number(v.count) > 0 ? Number(v.count) : 0), 0) + other;
    fb.meta.textContent = values.length ? `${values.length} shown` : '';
    if (!values.length) {
      fb.list.replaceChildren(el('li', { cls: 'top-empty', text: 'No values' }));
      return;
    }
    const items = values.map((v) => {
      const count = Number(v.count) > 0 ? Number(v.count) : 0;
      const pct = sum > 0 ? (count / sum) * 100 : 0;
      const value = v.value;
      const label = value === '' ? '(empty)' : revealText(value, { max: CELL_MAX });
      const li = el('li', { cls: 'top-item' });
      const btn = el('button', {
        cls: 'top-value',
        attrs: { type: 'button' },
        title: `${field}: ${label}\nClick: filter for · Shift/Alt-click: filter out`,
      });
      btn.append(el('span', { cls: value === '' ? 'top-label muted' : 'top-label', text: label }));
      btn.append(el('span', { cls: 'top-count', text: formatCount(count) }));
      const bar = svg('svg', { class: 'top-bar', viewBox: '0 0 100 3', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
      bar.append(svg('rect', { x: 0, y: 0, width: pct.toFixed(2), height: 3, class: 'top-bar-fill' }));
      btn.append(bar);
      const excl = el('button', {
        cls: 'icon-btn top-exclude',
        text: '−',
        attrs: { type: 'button', 'aria-label': `Filter out ${field} value` },
        title: 'Filter out',
      });
      if (isFilterable(value)) {
        btn.addEventListener('click', (e) => addFilter(field, value, e.shiftKey || e.altKey));
        excl.addEventListener('click', () => addFilter(field, value, true));
      } else {
        btn.disabled = true;
        excl.disabled = true;
      }
      li.append(btn, excl);
      return li;
    });
    if (other > 0) {
      items.push(el('li', { cls: 'top-other', text: `other values: ${formatCount(other)}` }));
    }
    fb.list.replaceChildren(...items);
  }

  // ----- histogram ----------------------------------------------------------

  const HIST = { height: 150, top: 10, bottom: 22, left: 44, right: 10 };
  let histLayout = null;
  let drag = null;

  function renderHistogram(message, isError = false) {
    const svgEl = dom.histSvg;
    const width = Math.max(200, Math.floor(dom.histWrap.clientWidth || 800));
    svgEl.setAttribute('width', String(width));
    svgEl.setAttribute('height', String(HIST.height));
    svgEl.setAttribute('viewBox', `0 0 ${width} ${HIST.height}`);
    svgEl.replaceChildren();
    histLayout = null;

    const data = lastHistogram;
    if (message || !data || !data.buckets.length) {
      dom.histMsg.textContent = message || (data ? 'No data in this range.' : '');
      dom.histMsg.hidden = !dom.histMsg.textContent;
      dom.histMsg.classList.toggle('is-error', isError);
      dom.histMeta.textContent = '';
      return;
    }
    dom.histMsg.hidden = true;

    const n = data.buckets.length;
    const plotW = width - HIST.left - HIST.right;
    const plotH = HIST.height - HIST.top - HIST.bottom;
    const maxCount = data.buckets.reduce((m, b) => Math.max(m, b.count), 0);
    const yMax = niceMax(maxCount);
    const barW = plotW / n;
    const gap = barW > 6 ? 1 : 0;
    const spanMs = data.intervalMs * n;
    histLayout = { n, plotW, plotH, barW, left: HIST.left, top: HIST.top };

    dom.histMeta.textContent = `interval ${formatDuration(data.intervalMs)} · peak ${formatCount(maxCount)}`;

    // Grid and y labels (0, half, max).
    const grid = svg('g', { class: 'h-grid' });
    for (const f of [0, 0.5, 1]) {
      const y = HIST.top + plotH - f * plotH;
      grid.append(svg('line', { x1: HIST.left, x2: width - HIST.right, y1: y.toFixed(1), y2: y.toFixed(1) }));
      if (Number.isInteger(yMax * f)) {
        grid.append(svg('text', { x: HIST.left - 6, y: (y + 4).toFixed(1), class: 'h-ylabel' }, formatCount(yMax * f)));
      }
    }
    svgEl.append(grid);

    // Bars.
    const bars = svg('g', { class: 'h-bars' });
    data.buckets.forEach((b, i) => {
      const h = yMax > 0 ? (b.count / yMax) * plotH : 0;
      const x = HIST.left + i * barW;
      bars.append(
        svg('rect', {
          x: (x + gap / 2).toFixed(2),
          y: (HIST.top + plotH - h).toFixed(2),
          width: Math.max(0.5, barW - gap).toFixed(2),
          height: Math.max(b.count > 0 ? 1 : 0, h).toFixed(2),
          class: 'h-bar',
          'data-i': i,
        }),
      );
    });
    svgEl.append(bars);

    // X labels.
    const labels = svg('g', { class: 'h-xlabels' });
    const step = labelStep(barW, 80);
    for (let i = 0; i < n; i += step) {
      const x = HIST.left + i * barW;
      labels.append(svg('line', { x1: x.toFixed(1), x2: x.toFixed(1), y1: HIST.top + plotH, y2: HIST.top + plotH + 4, class: 'h-tick' }));
      labels.append(
        svg('text', { x: (x + 2).toFixed(1), y: HIST.height - 6, class: 'h-xlabel' }, formatBucketLabel(data.buckets[i].date, data.intervalMs, spanMs)),
      );
    }
    svgEl.append(labels);

    // Selection rectangle, tooltip, and a transparent overlay that takes the pointer.
    const sel = svg('rect', { class: 'h-sel', x: 0, y: HIST.top, width: 0, height: plotH, visibility: 'hidden' });
    const tip = svg('g', { class: 'h-tip', visibility: 'hidden' });
    const tipBg = svg('rect', { class: 'h-tip-bg', x: 0, y: 0, width: 10, height: 38, rx: 3 });
    const tipTime = svg('text', { class: 'h-tip-time', x: 8, y: 15 });
    const tipCount = svg('text', { class: 'h-tip-count', x: 8, y: 30 });
    tip.append(tipBg, tipTime, tipCount);
    const overlay = svg('rect', { class: 'h-overlay', x: HIST.left, y: 0, width: plotW, height: HIST.height });
    svgEl.append(sel, overlay, tip);
    histLayout.sel = sel;
    histLayout.tip = { g: tip, bg: tipBg, time: tipTime, count: tipCount };
    histLayout.width = width;
  }

  function svgX(e) {
    const r = dom.histSvg.getBoundingClientRect();
    return e.clientX - r.left;
  }

  function highlight(i) {
    for (const r of dom.histSvg.querySelectorAll('.h-bar.is-hover')) r.classList.remove('is-hover');
    if (i >= 0) {
      const r = dom.histSvg.querySelector(`.h-bar[data-i="${i}"]`);
      if (r) r.classList.add('is-hover');
    }
  }

  function showTip(i, x, i0 = i) {
    if (!histLayout || !lastHistogram) return;
    const lo = Math.min(i, i0);
    const hi = Math.max(i, i0);
    const b = lastHistogram.buckets[lo];
    if (!b || !lastHistogram.buckets[hi]) return;
    let count = 0;
    for (let k = lo; k <= hi; k++) count += lastHistogram.buckets[k].count;
    const t = histLayout.tip;
    t.time.textContent = formatBucketRange(b.date, lastHistogram.intervalMs * (hi - lo + 1));
    t.count.textContent = `${formatCount(count)} event${count === 1 ? '' : 's'}${hi > lo ? ' · release to zoom' : ''}`;
    t.g.setAttribute('visibility', 'visible');
    let w = 180;
    try {
      w = Math.max(t.time.getComputedTextLength(), t.count.getComputedTextLength()) + 16;
    } catch {
      /* not rendered yet */
    }
    t.bg.setAttribute('width', w.toFixed(0));
    let tx = x + 12;
    if (tx + w > histLayout.width - 2) tx = x - w - 12;
    tx = Math.max(2, tx);
    t.g.setAttribute('transform', `translate(${tx.toFixed(0)},${HIST.top + 2})`);
  }

  function hideTip() {
    if (histLayout) histLayout.tip.g.setAttribute('visibility', 'hidden');
    highlight(-1);
  }

  function onHistPointerDown(e) {
    if (!histLayout || e.button !== 0) return;
    const x = svgX(e);
    const i = bucketIndexAt(x, histLayout.left, histLayout.plotW, histLayout.n);
    drag = { x0: x, i0: i, moved: false, pointerId: e.pointerId };
    try {
      dom.histSvg.setPointerCapture(e.pointerId);
    } catch {
      /* ignore */
    }
    e.preventDefault();
  }

  function onHistPointerMove(e) {
    if (!histLayout) return;
    const x = svgX(e);
    const i = bucketIndexAt(x, histLayout.left, histLayout.plotW, histLayout.n);
    if (drag) {
      if (Math.abs(x - drag.x0) > 3) drag.moved = true;
      const lo = Math.min(drag.i0, i);
      const hi = Math.max(drag.i0, i);
      const sel = histLayout.sel;
      sel.setAttribute('x', (histLayout.left + lo * histLayout.barW).toFixed(1));
      sel.setAttribute('width', ((hi - lo + 1) * histLayout.barW).toFixed(1));
      sel.setAttribute('visibility', drag.moved ? 'visible' : 'hidden');
    }
    highlight(i);
    showTip(i, x, drag && drag.moved ? drag.i0 : i);
  }

  function onHistPointerUp(e) {
    if (!drag || !histLayout || !lastHistogram) {
      drag = null;
      return;
    }
    const x = svgX(e);
    const i = bucketIndexAt(x, histLayout.left, histLayout.plotW, histLayout.n);
    const i0 = drag.moved ? drag.i0 : i;
    drag = null;
    histLayout.sel.setAttribute('visibility', 'hidden');
    const r = zoomRange(lastHistogram.buckets, lastHistogram.intervalMs, i0, i);
    if (r) navigate({ from: r.from, to: r.to, page: 1 });
  }

  // ----- time picker --------------------------------------------------------

  for (const r of QUICK_RANGES) {
    const b = el('button', { cls: 'quick-btn', text: r.label, attrs: { type: 'button' } });
    b.dataset.from = r.from;
    b.addEventListener('click', () => {
      closePopovers();
      navigate({ from: r.from, to: 'now', page: 1 });
    });
    dom.quick.append(b);
  }

  function openTimePicker() {
    const range = lastRange || resolveRange(state, Date.now());
    if (!range.error) {
      dom.absFrom.value = toLocalInputValue(range.from);
      dom.absTo.value = toLocalInputValue(range.to);
    }
    dom.absError.hidden = true;
    dom.timePop.hidden = false;
    dom.timeBtn.setAttribute('aria-expanded', 'true');
    const pressed = dom.quick.querySelector('button[aria-pressed="true"]');
    (pressed || dom.quick.querySelector('button')).focus();
  }

  function applyAbsolute() {
    const f = fromLocalInputValue(dom.absFrom.value);
    const t = fromLocalInputValue(dom.absTo.value);
    let err = '';
    if (!f) err = 'Enter a valid start time.';
    else if (!t) err = 'Enter a valid end time.';
    else if (f.getTime() >= t.getTime()) err = 'Start must be before end.';
    if (err) {
      dom.absError.textContent = err;
      dom.absError.hidden = false;
      return;
    }
    closePopovers();
    navigate({ from: toRfc3339(f), to: toRfc3339(t), page: 1 });
  }

  function closePopovers() {
    const wasOpen = !dom.timePop.hidden || !dom.help.hidden;
    dom.timePop.hidden = true;
    dom.help.hidden = true;
    dom.timeBtn.setAttribute('aria-expanded', 'false');
    dom.helpBtn.setAttribute('aria-expanded', 'false');
    return wasOpen;
  }

  function toggleHelp() {
    const open = dom.help.hidden;
    closePopovers();
    dom.help.hidden = !open;
    dom.helpBtn.setAttribute('aria-expanded', String(open));
  }

  // ----- live tail / health -------------------------------------------------

  function setLiveTimer() {
    if (state.live && !liveTimer) {
      liveTimer = setInterval(() => {
        if (document.hidden || inFlight || drag || view !== 'search') return;
        runSearch();
      }, REFRESH_MS);
    } else if (!state.live && liveTimer) {
      clearInterval(liveTimer);
      liveTimer = null;
    }
    document.body.classList.toggle('is-live', state.live);
  }

  async function checkHealth() {
    const ctrl = new AbortController();
    const t = setTimeout(() => ctrl.abort(), 5000);
    try {
      const body = await fetchJson('/healthz', ctrl.signal);
      const ok = body.status === 'ok';
      dom.health.className = ok ? 'health is-ok' : 'health is-warn';
      dom.healthText.textContent = ok ? 'API connected' : 'API degraded';
    } catch {
      dom.health.className = 'health is-bad';
      dom.healthText.textContent = 'API unreachable';
    } finally {
      clearTimeout(t);
    }
  }

  // ----- alerts view --------------------------------------------------------

  let alertsState = { ...DEFAULT_ALERTS_STATE };
  let alertsList = [];
  let alertsNext = null;
  let alertsTotal = 0;
  let alertsSeq = 0;
  let alertsKey = null; // filters of the loaded list (null: nothing loaded)
  let lastAlertsHash = buildAlertsHash(DEFAULT_ALERTS_STATE);
  let stream = null;
  let streamRetry = null;
  let streamBroken = false;
  let detailAlert = null; // { alert, history } shown in the alert panel
  let detailSeq = 0;
  let actionBusy = false;
  /** Alerts created since the page loaded that the analyst has not opened (the badge). */
  const newIds = new Set();

  const filtersKey = (s) => JSON.stringify([s.status, s.severity, s.kind, s.q.trim()]);

  function navigateAlerts(patch) {
    const h = buildAlertsHash({ ...alertsState, ...patch });
    if (location.hash.replace(/^#/, '') === h) showAlerts(parseAlertsHash(h));
    else location.hash = h; // → hashchange → onHashChange → showAlerts
  }

  function showAlerts(s) {
    alertsState = s;
    lastAlertsHash = buildAlertsHash(s);
    showView('alerts');
    dom.afStatus.value = s.status;
    dom.afSeverity.value = s.severity;
    dom.afKind.value = s.kind;
    if (dom.afQ.value !== s.q) dom.afQ.value = s.q;
    if (filtersKey(s) !== alertsKey) loadAlerts(false);
    else renderAlerts();
    if (s.id) openAlertDetail(s.id);
    else hideAlertDetail();
    ensureStream();
    document.documentElement.dataset.synced = location.hash.replace(/^#/, '');
  }

  function timeoutSignal() {
    return typeof AbortSignal !== 'undefined' && AbortSignal.timeout ? AbortSignal.timeout(REQUEST_TIMEOUT_MS) : undefined;
  }

  function setAlertsLoading(on) {
    document.body.classList.toggle('is-loading', on);
    dom.alertsCard.setAttribute('aria-busy', String(on));
    dom.progress.hidden = !on;
  }

  async function loadAlerts(append) {
    const my = ++alertsSeq;
    const s = alertsState;
    if (!append) alertsKey = filtersKey(s);
    setAlertsLoading(true);
    try {
      const body = await fetchJson(alertsListUrl(s, append ? alertsNext : null), timeoutSignal());
      if (my !== alertsSeq) return;
      const got = Array.isArray(body.alerts) ? body.alerts.filter((a) => isPlainObject(a) && typeof a.id === 'string') : [];
      if (append) {
        const have = new Set(alertsList.map((a) => a.id));
        alertsList = alertsList.concat(got.filter((a) => !have.has(a.id))).slice(0, ALERTS_MAX_ROWS);
      } else {
        alertsList = got;
      }
      alertsNext = typeof body.next === 'string' && alertsList.length < ALERTS_MAX_ROWS ? body.next : null;
      alertsTotal = Number.isFinite(Number(body.total)) ? Number(body.total) : alertsList.length;
      dom.alertsError.hidden = true;
      renderAlerts();
    } catch (e) {
      if (my !== alertsSeq) return;
      alertsKey = null;
      const msg = e && e.name === 'TimeoutError' ? `The API did not answer within ${REQUEST_TIMEOUT_MS / 1000} s` : e.message;
      dom.alertsError.textContent = e.status === 400 ? `Filter error: ${msg}` : `Alerts unavailable: ${msg}`;
      dom.alertsError.hidden = false;
      if (!append) {
        alertsList = [];
        alertsNext = null;
        alertsTotal = 0;
        renderAlerts(msg);
      }
    } finally {
      if (my === alertsSeq) setAlertsLoading(false);
    }
  }

  function updateBadge() {
    const n = newIds.size;
    dom.alertsBadge.textContent = formatCount(n);
    dom.alertsBadge.hidden = n === 0;
    dom.alertsNew.textContent = `${formatCount(n)} new`;
    dom.alertsNew.hidden = n === 0;
  }

  function renderAlerts(errorText) {
    const rows = alertsList.map((a) => buildAlertRow(a));
    dom.alertRows.replaceChildren(...rows);
    dom.alertsTotal.textContent = `${formatCount(alertsTotal)} alert${alertsTotal === 1 ? '' : 's'}`;
    if (!alertsList.length) {
      dom.alertsMsg.hidden = false;
      dom.alertsMsg.className = errorText ? 'results-msg is-error' : 'results-msg';
      dom.alertsMsg.replaceChildren(
        el('strong', { text: errorText ? 'Alerts unavailable: ' : 'No alerts match.' }),
        el('span', { text: errorText || ' New alerts appear here as they are raised.' }),
      );
    } else {
      dom.alertsMsg.hidden = true;
      dom.alertsMsg.replaceChildren();
    }
    dom.alertsPageText.textContent = alertsList.length ? `${formatCount(alertsList.length)} of ${formatCount(alertsTotal)} shown` : '';
    dom.alertsMore.hidden = !alertsNext;
  }

  function buildAlertRow(a) {
    const cell = (v) => revealText(displayValue(v), { max: CELL_MAX });
    const label = a.severity && typeof a.severity.label === 'string' ? a.severity.label : '';
    const tr = el('tr', { attrs: { tabindex: '0' } });
    tr.dataset.id = a.id;
    if (newIds.has(a.id)) tr.classList.add('is-new');
    if (alertsState.id === a.id) tr.classList.add('is-selected');
    const sev = el('td', { cls: 'c-sev' }, [el('span', { cls: severityClass(label), text: label || '?' })]);
    const title = cell(a.rule_title);
    const rule = el('td', { cls: 'c-rule', title: `${title}\nrule ${cell(a.rule_id)}` }, [el('span', { text: title })]);
    if (isPlainObject(a.flood)) rule.prepend(el('span', { cls: 'flood-tag', text: 'flood' }));
    const entity = revealText(entityText(a), { max: CELL_MAX });
    const first = parseTimestamp(a.first_seen);
    const last = parseTimestamp(a.last_seen);
    const status = el('td', { cls: 'c-status' }, [el('span', { cls: statusClass(a.status), text: cell(a.status) })]);
    if (typeof a.assignee === 'string' && a.assignee) status.append(el('span', { cls: 'assignee', text: cell(a.assignee) }));
    const attack = techniqueIds(a).join(', ');
    tr.append(
      sev,
      rule,
      el('td', { cls: 'c-entity mono', text: entity, title: entity }),
      el('td', { cls: 'c-count num', text: formatCount(Number(a.count)) }),
      el('td', { cls: 'c-time mono', text: first ? formatLocalTime(first, { ms: false }) : '—' }),
      el('td', { cls: 'c-time mono', text: last ? formatLocalTime(last, { ms: false }) : '—' }),
      status,
      el('td', { cls: 'c-attack mono', text: attack, title: attack }),
    );
    return tr;
  }

  // ----- live stream --------------------------------------------------------

  function setLive(kind, text) {
    dom.alertsLive.className = `health is-${kind}`;
    dom.alertsLiveText.textContent = text;
  }

  function ensureStream() {
    if (stream || typeof EventSource === 'undefined') return;
    clearTimeout(streamRetry);
    const es = new EventSource('/api/v1/alerts/stream');
    stream = es;
    es.addEventListener('open', () => {
      setLive('ok', 'Live');
      // Back after a break: what changed meanwhile is only in the store.
      if (streamBroken) {
        streamBroken = false;
        alertsKey = null;
        if (view === 'alerts') loadAlerts(false);
      }
    });
    es.addEventListener('error', () => {
      streamBroken = true;
      if (es.readyState === EventSource.CLOSED) {
        // Refused (e.g. alerting not enabled, or too many streams): try again later.
        setLive('bad', 'Live updates unavailable');
        stream = null;
        streamRetry = setTimeout(ensureStream, 30_000);
      } else {
        setLive('warn', 'Reconnecting…');
      }
    });
    es.addEventListener('alert', (e) => onLiveAlert(e.data));
    es.addEventListener('lagged', (e) => {
      let missed = 0;
      try {
        missed = Number(JSON.parse(e.data).missed) || 0;
      } catch {
        missed = 0;
      }
      dom.alertsNote.textContent = `live feed missed ${formatCount(missed)} update${missed === 1 ? '' : 's'}; list reloaded`;
      alertsKey = null;
      if (view === 'alerts') loadAlerts(false);
    });
  }

  function onLiveAlert(data) {
    let a;
    try {
      a = JSON.parse(data);
    } catch {
      return;
    }
    if (!isPlainObject(a) || typeof a.id !== 'string') return;
    if (Number(a.revision) === 1 && alertMatches(a, alertsState) && newIds.size < ALERTS_MAX_ROWS) {
      newIds.add(a.id);
      updateBadge();
    }
    if (alertsKey !== null) {
      const r = mergeAlert(alertsList, a, alertsState);
      if (r.change !== 'stale') {
        alertsList = r.list;
        if (r.change === 'added') alertsTotal += 1;
        if (r.change === 'removed') alertsTotal = Math.max(0, alertsTotal - 1);
        if (view === 'alerts') renderAlerts();
      }
    }
    if (detailAlert && detailAlert.alert.id === a.id && Number(a.revision) > Number(detailAlert.alert.revision)) {
      refreshAlertDetail(a.id);
    }
  }

  // ----- alert detail -------------------------------------------------------

  function hideAlertDetail() {
    detailSeq++;
    detailAlert = null;
    dom.alertDetail.hidden = true;
    document.body.classList.remove('has-detail');
    for (const r of dom.alertRows.querySelectorAll('tr.is-selected')) r.classList.remove('is-selected');
  }

  function openAlertDetail(id) {
    if (newIds.delete(id)) updateBadge();
    for (const r of dom.alertRows.querySelectorAll('tr')) {
      r.classList.toggle('is-selected', r.dataset.id === id);
      if (r.dataset.id === id) r.classList.remove('is-new');
    }
    dom.alertDetail.hidden = false;
    document.body.classList.add('has-detail');
    if (!detailAlert || detailAlert.alert.id !== id) {
      detailAlert = null;
      dom.adTitle.textContent = 'Alert';
      dom.adSub.textContent = 'Loading…';
      dom.adFields.replaceChildren();
      dom.adEvents.replaceChildren();
      dom.adHistory.replaceChildren();
      dom.adStatusBtns.replaceChildren();
      dom.adEventsNote.textContent = '';
      dom.adError.hidden = true;
      try {
        if (!dom.adUser.value) dom.adUser.value = localStorage.getItem('sen.user') || '';
      } catch {
        /* storage unavailable */
      }
    }
    refreshAlertDetail(id);
  }

  async function refreshAlertDetail(id) {
    const my = ++detailSeq;
    try {
      const body = await fetchJson(alertPath(id), timeoutSignal());
      if (my !== detailSeq) return;
      if (!isPlainObject(body.alert)) throw new ApiError('The API returned no alert', 200, null);
      detailAlert = { alert: body.alert, history: Array.isArray(body.history) ? body.history.filter(isPlainObject) : [] };
      renderAlertDetail();
    } catch (e) {
      if (my !== detailSeq) return;
      dom.adSub.textContent = e.status === 404 ? 'Alert not found.' : `Cannot load the alert: ${e.message}`;
    }
  }

  function kvRow(key, value, { cls } = {}) {
    const tr = el('tr');
    tr.append(el('th', { cls: 'mono', text: key, attrs: { scope: 'row' } }));
    const td = el('td');
    if (value instanceof Node) td.append(value);
    else td.append(el('span', { cls: cls || 'val-text', text: revealText(displayValue(value), { multiline: true, max: DETAIL_MAX }) }));
    tr.append(td);
    return tr;
  }

  function renderAlertDetail() {
    const a = detailAlert.alert;
    const label = a.severity && typeof a.severity.label === 'string' ? a.severity.label : '';
    dom.adTitle.textContent = revealText(displayValue(a.rule_title), { max: CELL_MAX });
    dom.adSub.replaceChildren(
      el('span', { cls: severityClass(label), text: label || '?' }),
      el('span', { cls: statusClass(a.status), text: revealText(displayValue(a.status), { max: 64 }) }),
      el('span', { text: typeof a.assignee === 'string' && a.assignee ? `assigned to ${revealText(a.assignee, { max: 64 })}` : 'unassigned' }),
    );
    const when = (v) => {
      const d = parseTimestamp(v);
      return d ? `${formatLocalTime(d)} (${formatUtcOffset(d)})` : displayValue(v);
    };
    const rows = [
      kvRow('id', a.id),
      kvRow('rule.id', a.rule_id),
      kvRow('rule.name', a.rule_title),
      ...(typeof a.rule_author === 'string' && a.rule_author ? [kvRow('rule.author', a.rule_author)] : []),
      kvRow('kind', a.kind),
      kvRow('severity', `${label} (${displayValue(a.severity && a.severity.score)})`),
      kvRow('count', formatCount(Number(a.count))),
      kvRow('first seen', when(a.first_seen)),
      kvRow('last seen', when(a.last_seen)),
      kvRow('window start', when(a.window_start)),
    ];
    const ent = isPlainObject(a.entity) ? a.entity : {};
    for (const k of Object.keys(ent).sort()) rows.push(kvRow(k, ent[k]));
    if (isPlainObject(a.flood)) {
      const sample = Array.isArray(a.flood.sample) ? a.flood.sample : [];
      rows.push(kvRow('flood sample', sample.map((e) => entityText({ entity: e })).join('\n') + (a.flood.more ? '\n…' : '')));
    }
    const threat = isPlainObject(a.threat) ? a.threat : {};
    const tactics = Array.isArray(threat.tactics) ? threat.tactics.filter(isPlainObject).map((t) => `${t.id} ${t.name}`) : [];
    if (tactics.length) rows.push(kvRow('ATT&CK tactics', tactics.join(', ')));
    const techs = techniqueIds(a);
    if (techs.length) rows.push(kvRow('ATT&CK techniques', techs.join(', ')));
    if (Array.isArray(a.tags) && a.tags.length) rows.push(kvRow('tags', a.tags.map(displayValue).join(', ')));
    rows.push(kvRow('created', when(a.created_at)), kvRow('updated', when(a.updated_at)));
    dom.adFields.replaceChildren(...rows);

    const ids = Array.isArray(a.event_ids) ? a.event_ids.filter((x) => typeof x === 'string') : [];
    dom.adEvents.replaceChildren(
      ...ids.map((id) => {
        const b = el('button', {
          cls: 'link-btn mono',
          text: revealText(id, { max: CELL_MAX }),
          attrs: { type: 'button' },
          title: 'Search for this event',
        });
        b.addEventListener('click', () => {
          location.hash = eventSearchHash(id, a);
        });
        return el('li', {}, [b]);
      }),
    );
    const omitted = Number(a.event_ids_omitted) > 0 ? Number(a.event_ids_omitted) : 0;
    dom.adEventsNote.textContent = omitted ? `+${formatCount(omitted)} more not kept` : ids.length ? `${ids.length}` : 'none kept';

    dom.adHistory.replaceChildren(
      ...detailAlert.history.map((h) => {
        const d = parseTimestamp(h.at);
        const li = el('li', { cls: `ad-h ad-h-${['created', 'status', 'assign', 'comment'].includes(h.action) ? h.action : 'other'}` });
        li.append(el('span', { cls: 'ad-h-time mono', text: d ? formatLocalTime(d, { ms: false }) : '' }));
        li.append(el('span', { cls: 'ad-h-text', text: revealText(historyText(h), { max: CELL_MAX }) }));
        if (typeof h.comment === 'string' && h.comment) {
          li.append(el('div', { cls: 'ad-h-comment', text: revealText(h.comment, { multiline: true, max: DETAIL_MAX }) }));
        }
        return li;
      }),
    );

    dom.adStatusBtns.replaceChildren(
      ...workflowActions(a.status).map(([to, text]) => {
        const b = el('button', { cls: to === 'closed' ? 'btn btn-small' : 'btn btn-small btn-primary', text, attrs: { type: 'button' } });
        b.dataset.status = to;
        b.addEventListener('click', () => alertAction('status', { status: to, comment: dom.adComment.value.trim() || undefined }));
        return b;
      }),
    );
    if (document.activeElement !== dom.adAssignee) dom.adAssignee.value = typeof a.assignee === 'string' ? a.assignee : '';
    for (const r of dom.alertRows.querySelectorAll('tr')) r.classList.toggle('is-selected', r.dataset.id === a.id);
  }

  function showAdError(msg) {
    dom.adError.textContent = msg;
    dom.adError.hidden = !msg;
  }

  async function alertAction(action, payload) {
    if (!detailAlert || actionBusy) return;
    const id = detailAlert.alert.id;
    const user = dom.adUser.value.trim();
    if (user && !isValidActor(user)) {
      showAdError('“Acting as” must be 1 to 64 letters, digits, “.”, “_”, “@” or “-”.');
      return;
    }
    if (payload.comment !== undefined && payload.comment.length > MAX_COMMENT) {
      showAdError(`The comment is longer than ${MAX_COMMENT} characters.`);
      return;
    }
    if (action === 'comments' && !payload.text) {
      showAdError('Write a comment first.');
      return;
    }
    if (action === 'assign' && payload.assignee && !isValidActor(payload.assignee)) {
      showAdError('The assignee must be 1 to 64 letters, digits, “.”, “_”, “@” or “-”.');
      return;
    }
    try {
      if (user) localStorage.setItem('sen.user', user);
    } catch {
      /* storage unavailable */
    }
    actionBusy = true;
    dom.alertDetail.classList.add('is-busy');
    showAdError('');
    const headers = { 'Content-Type': 'application/json' };
    if (user) headers['X-Sen-User'] = user;
    try {
      const body = await fetchJson(alertPath(id, action), timeoutSignal(), { method: 'POST', body: JSON.stringify(payload), headers });
      if (!detailAlert || detailAlert.alert.id !== id || !isPlainObject(body.alert)) return;
      detailSeq++; // a refresh in flight must not overwrite this newer state
      detailAlert = { alert: body.alert, history: Array.isArray(body.history) ? body.history.filter(isPlainObject) : [] };
      dom.adComment.value = '';
      renderAlertDetail();
      const r = mergeAlert(alertsList, body.alert, alertsState);
      if (r.change !== 'stale') {
        alertsList = r.list;
        if (r.change === 'removed') alertsTotal = Math.max(0, alertsTotal - 1);
        renderAlerts();
      }
    } catch (e) {
      showAdError(e.status === 409 ? `${e.message} (someone else may have changed it; refreshed)` : e.message);
      if (e.status === 409) refreshAlertDetail(id);
    } finally {
      actionBusy = false;
      dom.alertDetail.classList.remove('is-busy');
    }
  }

  dom.navSearch.addEventListener('click', () => {
    if (view !== 'search') location.hash = lastSearchHash || buildHash(state);
  });
  dom.navAlerts.addEventListener('click', () => {
    if (view !== 'alerts') location.hash = lastAlertsHash;
  });
  dom.alertsFilters.addEventListener('submit', (e) => {
    e.preventDefault();
    navigateAlerts({ q: dom.afQ.value.slice(0, MAX_ALERT_TEXT), id: '' });
  });
  for (const [sel, key] of [
    [dom.afStatus, 'status'],
    [dom.afSeverity, 'severity'],
    [dom.afKind, 'kind'],
  ]) {
    sel.addEventListener('change', () => navigateAlerts({ [key]: sel.value, q: dom.afQ.value.slice(0, MAX_ALERT_TEXT) }));
  }
  dom.alertsMore.addEventListener('click', () => loadAlerts(true));
  dom.alertsNew.addEventListener('click', () => {
    newIds.clear();
    updateBadge();
    for (const r of dom.alertRows.querySelectorAll('tr.is-new')) r.classList.remove('is-new');
    dom.alertRows.closest('.table-wrap').scrollTop = 0;
  });
  const onAlertRow = (e) => {
    const tr = e.target.closest('tr');
    if (!tr || !dom.alertRows.contains(tr) || !tr.dataset.id) return;
    navigateAlerts({ id: tr.dataset.id });
  };
  dom.alertRows.addEventListener('click', onAlertRow);
  dom.alertRows.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onAlertRow(e);
    }
  });
  dom.adClose.addEventListener('click', () => navigateAlerts({ id: '' }));
  dom.adAssign.addEventListener('click', () =>
    alertAction('assign', { assignee: dom.adAssignee.value.trim() || null, comment: dom.adComment.value.trim() || undefined }),
  );
  dom.adCommentBtn.addEventListener('click', () => alertAction('comments', { text: dom.adComment.value.trim() }));

  // ----- wiring -------------------------------------------------------------

  dom.form.addEventListener('submit', (e) => {
    e.preventDefault();
    closePopovers();
    navigate({ q: currentQueryInput(), page: 1 });
  });

  dom.helpBtn.addEventListener('click', (e) => {
    e.stopPropagation();
    toggleHelp();
  });
  dom.timeBtn.addEventListener('click', (e) => {
    e.stopPropagation();
    if (dom.timePop.hidden) {
      closePopovers();
      openTimePicker();
    } else closePopovers();
  });
  dom.absApply.addEventListener('click', applyAbsolute);
  for (const inp of [dom.absFrom, dom.absTo]) {
    inp.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        applyAbsolute();
      }
    });
  }
  document.addEventListener('click', (e) => {
    if (!dom.timePop.hidden && !dom.timePop.contains(e.target) && !dom.timeBtn.contains(e.target)) closePopovers();
    if (!dom.help.hidden && !dom.help.contains(e.target) && !dom.helpBtn.contains(e.target)) closePopovers();
  });
  dom.help.addEventListener('click', (e) => {
    const ex = e.target.closest('code[data-example]');
    if (!ex) return;
    dom.q.value = ex.textContent;
    dom.q.focus();
  });

  dom.live.addEventListener('change', () => navigate({ live: dom.live.checked }));
  dom.histReset.addEventListener('click', () => navigate({ from: DEFAULT_STATE.from, to: 'now', page: 1 }));

  dom.firstBtn.addEventListener('click', () => navigate({ page: 1 }));
  dom.prevBtn.addEventListener('click', () => navigate({ page: Math.max(1, state.page - 1) }));
  dom.nextBtn.addEventListener('click', () => navigate({ page: state.page + 1 }));

  dom.tbody.addEventListener('click', onRowActivate);
  dom.tbody.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      onRowActivate(e);
    }
  });

  dom.detailClose.addEventListener('click', closeDetail);
  dom.copyRaw.addEventListener('click', copyRaw);

  dom.histSvg.addEventListener('pointerdown', onHistPointerDown);
  dom.histSvg.addEventListener('pointermove', onHistPointerMove);
  dom.histSvg.addEventListener('pointerup', onHistPointerUp);
  dom.histSvg.addEventListener('pointercancel', () => {
    drag = null;
    hideTip();
  });
  dom.histSvg.addEventListener('pointerleave', () => {
    if (!drag) hideTip();
  });

  document.addEventListener('keydown', (e) => {
    if (e.defaultPrevented) return;
    const typing = isTypingTarget(e.target);
    if (view === 'alerts') {
      if (e.key === 'Escape') {
        if (typing) e.target.blur();
        else if (!dom.alertDetail.hidden) navigateAlerts({ id: '' });
      }
      return;
    }
    if (e.key === 'Escape') {
      if (closePopovers()) {
        if (typing) e.target.blur();
        return;
      }
      if (!dom.detail.hidden) {
        closeDetail();
        return;
      }
      if (typing) e.target.blur();
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === '/') {
      e.preventDefault();
      dom.q.focus();
      dom.q.select();
    } else if (e.key === '?') {
      e.preventDefault();
      toggleHelp();
    } else if (e.key === 'j' || e.key === 'ArrowDown') {
      if (e.key === 'ArrowDown' && !(e.target.closest && e.target.closest('#rows'))) return;
      e.preventDefault();
      focusRow(1);
    } else if (e.key === 'k' || e.key === 'ArrowUp') {
      if (e.key === 'ArrowUp' && !(e.target.closest && e.target.closest('#rows'))) return;
      e.preventDefault();
      focusRow(-1);
    } else if (e.key === ']' && !dom.nextBtn.disabled) {
      navigate({ page: state.page + 1 });
    } else if (e.key === '[' && !dom.prevBtn.disabled) {
      navigate({ page: Math.max(1, state.page - 1) });
    }
  });

  window.addEventListener('hashchange', onHashChange);
  if (typeof ResizeObserver !== 'undefined') {
    let lastW = 0;
    new ResizeObserver(() => {
      const w = dom.histWrap.clientWidth;
      if (w !== lastW) {
        lastW = w;
        renderHistogram();
      }
    }).observe(dom.histWrap);
  }
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.live && !inFlight && view === 'search') runSearch();
  });

  // ----- start --------------------------------------------------------------

  if (!location.hash) history.replaceState(null, '', '#' + buildHash(state));
  renderHistogram();
  checkHealth();
  setInterval(checkHealth, HEALTH_MS);
  ensureStream();
  if (view === 'alerts') {
    showAlerts(parseAlertsHash(location.hash));
  } else {
    showView('search');
    syncControls();
    runSearch();
  }
}

if (typeof window !== 'undefined' && typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', startApp);
  else startApp();
}
