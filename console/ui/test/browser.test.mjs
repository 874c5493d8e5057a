// End-to-end check of the console in headless Chromium against the mock API
// (test/mock-server.mjs) on 127.0.0.1. Skipped when no Chromium is installed.
//
// Talks to Chromium with the DevTools protocol over --remote-debugging-pipe
// (file descriptors 3/4; no debugging port, no npm packages).
//
//   node --test console/ui/test/
//   SEN_UI_SHOTS=/tmp/shots node --test console/ui/test/   # also save PNGs
//   CHROMIUM=/path/to/chrome ...                            # pick a browser

import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, HOSTILE, makeAlert } from './mock-server.mjs';
import { parseHash, parseAlertsHash } from '../app.js';

const CANDIDATES = [
  process.env.CHROMIUM,
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
].filter(Boolean);
const BROWSER = CANDIDATES.find((p) => existsSync(p));
const SHOTS = process.env.SEN_UI_SHOTS || '';

class Cdp {
  constructor(proc) {
    this.out = proc.stdio[3];
    this.in = proc.stdio[4];
    this.nextId = 1;
    this.pending = new Map();
    this.handlers = new Set();
    let buf = Buffer.alloc(0);
    this.in.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let i;
      while ((i = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, i).toString('utf8'));
        buf = buf.subarray(i + 1);
        this.dispatch(msg);
      }
    });
  }

  dispatch(msg) {
    if (msg.id && this.pending.has(msg.id)) {
      const { resolve, reject, timer, method } = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      clearTimeout(timer);
      if (msg.error) reject(new Error(`${method}: ${msg.error.message}`));
      else resolve(msg.result);
      return;
    }
    for (const h of this.handlers) h(msg);
  }

  send(method, params = {}, sessionId) {
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`CDP timeout: ${method}`));
      }, 20_000);
      this.pending.set(id, { resolve, reject, timer, method });
      this.out.write(JSON.stringify(msg) + '\0');
    });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('console UI in headless Chromium (mock API)', { skip: !BROWSER && 'no Chromium installed', timeout: 120_000 }, async (t) => {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  const profile = mkdtempSync(path.join(tmpdir(), 'sen-ui-chromium-'));
  if (SHOTS) mkdirSync(SHOTS, { recursive: true });

  const proc = spawn(
    BROWSER,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-default-apps',
      '--disable-extensions',
      '--disable-sync',
      '--no-first-run',
      '--no-default-browser-check',
      '--mute-audio',
      `--user-data-dir=${profile}`,
      '--remote-debugging-pipe',
      '--window-size=1440,900',
      'about:blank',
    ],
    { stdio: ['ignore', 'ignore', 'ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise((r) => proc.once('exit', r));

  const cdp = new Cdp(proc);
  t.after(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      await cdp.send('Browser.close').catch(() => {});
      await Promise.race([exited, sleep(5000)]);
    }
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
    server.close();
    await sleep(200);
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 200 });
    } catch {
      // A leftover temporary profile is not a test failure.
    }
  });

  const { targetId } = await cdp.send('Target.createTarget', { url: 'about:blank' });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  const send = (m, p) => cdp.send(m, p, sessionId);

  const problems = [];
  cdp.handlers.add((msg) => {
    if (msg.sessionId !== sessionId) return;
    if (msg.method === 'Page.javascriptDialogOpening') {
      problems.push(`dialog opened: ${msg.params.message}`);
      send('Page.handleJavaScriptDialog', { accept: false }).catch(() => {});
    }
    if (msg.method === 'Runtime.exceptionThrown') {
      problems.push(`exception: ${JSON.stringify(msg.params.exceptionDetails).slice(0, 400)}`);
    }
    if (msg.method === 'Log.entryAdded') {
      const e = msg.params.entry;
      if (/Content.Security.Policy|Refused to/i.test(e.text)) problems.push(`CSP: ${e.text}`);
    }
    if (msg.method === 'Runtime.consoleAPICalled' && msg.params.type === 'error') {
      problems.push(`console.error: ${JSON.stringify(msg.params.args).slice(0, 300)}`);
    }
  });
  await send('Page.enable');
  await send('Runtime.enable');
  await send('Log.enable');
  await send('Emulation.setDeviceMetricsOverride', { width: 1440, height: 900, deviceScaleFactor: 1, mobile: false });
  await send('Emulation.setTimezoneOverride', { timezoneId: 'Asia/Ho_Chi_Minh' });

  const evaluate = async (expression) => {
    const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
    if (r.exceptionDetails) throw new Error(`evaluate failed: ${expression}: ${r.exceptionDetails.text}`);
    return r.result.value;
  };
  const waitFor = async (expression, what, timeout = 10_000) => {
    const end = Date.now() + timeout;
    for (;;) {
      if (await evaluate(`Boolean(${expression})`)) return;
      if (Date.now() > end) throw new Error(`timed out waiting for ${what || expression}`);
      await sleep(50);
    }
  };
  // Wait for a hash condition and for the app to have applied that hash to its controls.
  const waitHash = async (expression, what) => {
    await waitFor(expression, what);
    await waitFor(`document.documentElement.dataset.synced === location.hash.replace(/^#/, '')`, `${what} applied`);
  };
  const idle = () => waitFor(`!document.body.classList.contains('is-loading')`, 'search to finish');
  const hashState = async () => parseHash(await evaluate('location.hash'));
  const center = async (selector) => {
    const r = await evaluate(`(() => {
      const el = document.querySelector(${JSON.stringify(selector)});
      if (!el) return null;
      el.scrollIntoView({ block: 'center', inline: 'center' });
      const b = el.getBoundingClientRect();
      return { x: b.left + b.width / 2, y: b.top + b.height / 2 };
    })()`);
    assert.ok(r, `element ${selector} exists`);
    return r;
  };
  const mouse = (type, x, y, modifiers = 0, buttons = 0) =>
    send('Input.dispatchMouseEvent', { type, x, y, modifiers, button: type === 'mouseMoved' ? 'none' : 'left', buttons, clickCount: 1 });
  const click = async (selector, modifiers = 0) => {
    const { x, y } = await center(selector);
    await mouse('mouseMoved', x, y, modifiers);
    await mouse('mousePressed', x, y, modifiers, 1);
    await mouse('mouseReleased', x, y, modifiers, 0);
  };
  const KEYS = {
    '/': { code: 'Slash', windowsVirtualKeyCode: 191, text: '/' },
    '?': { code: 'Slash', windowsVirtualKeyCode: 191, text: '?', modifiers: 8 },
    Enter: { code: 'Enter', windowsVirtualKeyCode: 13, text: '\r' },
    Escape: { code: 'Escape', windowsVirtualKeyCode: 27 },
    Delete: { code: 'Delete', windowsVirtualKeyCode: 46 },
    j: { code: 'KeyJ', windowsVirtualKeyCode: 74, text: 'j' },
  };
  const press = async (key) => {
    const k = KEYS[key];
    await send('Input.dispatchKeyEvent', { type: k.text ? 'keyDown' : 'rawKeyDown', key, ...k });
    await send('Input.dispatchKeyEvent', { type: 'keyUp', key, code: k.code, windowsVirtualKeyCode: k.windowsVirtualKeyCode, modifiers: k.modifiers || 0 });
  };
  const typeQuery = async (text) => {
    // Let queued hashchange handlers run first: they sync the box from the URL.
    await sleep(150);
    await evaluate(`(() => { const q = document.getElementById('q'); q.focus(); q.select(); })()`);
    if (text) {
      await send('Input.insertText', { text });
    } else {
      await press('Delete');
    }
    await waitFor(`document.getElementById('q').value === ${JSON.stringify(text)}`, 'query typed');
    await press('Enter');
  };
  const shot = async (name) => {
    if (!SHOTS) return;
    const { data } = await send('Page.captureScreenshot', { format: 'png' });
    writeFileSync(path.join(SHOTS, `${name}.png`), Buffer.from(data, 'base64'));
  };
  const assertInert = async () => {
    const bad = await evaluate(`(() => {
      const out = [];
      for (const el of document.querySelectorAll('*')) {
        for (const a of el.attributes) if (/^on/i.test(a.name)) out.push(el.tagName + ' ' + a.name);
        if (el.hasAttribute('style')) out.push(el.tagName + ' style=');
      }
      out.push(...[...document.querySelectorAll('img, iframe, object, embed, script:not([src="/ui/app.js"]), style')].map((e) => 'element ' + e.tagName));
      return out;
    })()`);
    assert.deepEqual(bad, [], 'no injected elements, handlers or inline styles');
  };

  // ---- initial load ----
  await send('Page.navigate', { url: `${base}/` });
  await waitFor(`document.querySelectorAll('#rows tr').length === 50`, '50 result rows');
  await waitFor(`document.querySelectorAll('#hist .h-bar').length === 60`, '60 histogram bars');
  await waitFor(`document.querySelectorAll('.field-box .top-item').length >= 20`, 'top values');
  await idle();
  assert.deepEqual(await hashState(), { q: '', from: 'now-24h', to: 'now', page: 1, live: false });
  assert.equal(await evaluate(`document.getElementById('total').textContent`), '1,234 events');
  assert.match(await evaluate(`document.getElementById('page-text').textContent`), /^1–50 of 1,234/);
  assert.equal(await evaluate(`document.getElementById('tz-head').textContent`), 'Time (UTC+07:00)');
  assert.match(await evaluate(`document.getElementById('health-text').textContent`), /connected/);

  // Hostile strings render as text.
  const first = await evaluate(`[...document.querySelectorAll('#rows tr:first-child td')].map((td) => td.textContent)`);
  assert.equal(first[1], HOSTILE.breakout);
  assert.equal(first[2], HOSTILE.img);
  assert.equal(first[4], `${HOSTILE.img} ${HOSTILE.script}`);
  assert.ok(
    await evaluate(`[...document.querySelectorAll('#rows .c-msg')].some((td) => td.textContent.includes('invoice⟨U+202E⟩txt.exe'))`),
    'bidi override is revealed',
  );
  assert.ok(await evaluate(`[...document.querySelectorAll('.top-label')].some((s) => s.textContent === ${JSON.stringify(HOSTILE.img)})`));
  await assertInert();
  await shot('01-main');

  // ---- histogram hover ----
  {
    const { x, y } = await center('#hist .h-bar[data-i="41"]');
    await mouse('mouseMoved', x, y);
    await waitFor(`document.querySelector('#hist .h-tip').getAttribute('visibility') === 'visible'`, 'tooltip');
    const tip = await evaluate(`document.querySelector('#hist .h-tip-count').textContent`);
    assert.match(tip, /^\d[\d,]* events?$/);
    assert.match(await evaluate(`document.querySelector('#hist .h-tip-time').textContent`), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d – /);
    await shot('02-hist-hover');
    await mouse('mouseMoved', 5, 5);
  }

  // ---- detail panel ----
  await click('#rows tr:first-child td.c-msg');
  await waitFor(`!document.getElementById('detail').hidden`, 'detail panel');
  assert.equal(await evaluate(`document.getElementById('detail-raw').textContent.split('\\n')[0]`), HOSTILE.script);
  assert.ok(await evaluate(`[...document.querySelectorAll('#detail-fields th')].some((th) => th.textContent === 'x.<svg onload=alert(1)>')`));
  assert.ok(await evaluate(`document.querySelector('#rows tr:first-child').classList.contains('is-selected')`));
  await assertInert();
  await shot('03-detail');

  // Filter-for on a value with quotes and backslashes.
  const userRow = await evaluate(`[...document.querySelectorAll('#detail-fields tr')].findIndex((tr) => tr.querySelector('th').textContent === 'user.name')`);
  assert.ok(userRow >= 0, 'user.name row');
  await click(`#detail-fields tr:nth-child(${userRow + 1}) .filter-btns button:first-child`);
  await waitHash(`location.hash.includes('user.name')`, 'filter applied to hash');
  await idle();
  const expectedQ = 'user.name:"C:\\\\Users\\\\\\"admin\\"\\\\Desktop"';
  assert.equal((await hashState()).q, expectedQ);
  assert.equal(await evaluate(`document.getElementById('q').value`), expectedQ);
  assert.equal(await evaluate(`document.getElementById('total').textContent`), '187 events');
  await press('Escape');
  await waitFor(`document.getElementById('detail').hidden`, 'detail closed by Esc');

  // ---- sidebar: Alt-click filters out ----
  await click('.field-box:nth-child(2) .top-item:first-child .top-value', 1 /* Alt */);
  await waitHash(`location.hash.includes('web01')`, 'exclude filter');
  await idle();
  assert.equal((await hashState()).q, `${expectedQ} AND NOT host.name:"web01"`);
  const beforeError = (await hashState()).q;

  // ---- keyboard: / focuses search without typing a slash ----
  await evaluate(`document.activeElement && document.activeElement.blur()`);
  await press('/');
  assert.equal(await evaluate(`document.activeElement.id`), 'q');
  assert.equal(await evaluate(`document.getElementById('q').value`), beforeError);

  // ---- query error from the API (400) ----
  await typeQuery('host.name:(( broken');
  await waitFor(`!document.getElementById('q-error').hidden`, 'query error shown');
  assert.match(await evaluate(`document.getElementById('q-error').textContent`), /syntax error at position 11/);
  assert.equal(await evaluate(`document.getElementById('q').getAttribute('aria-invalid')`), 'true');
  await idle();
  await shot('04-query-error');

  // ---- back restores the previous query and clears the error ----
  await evaluate('history.back()');
  await waitFor(`document.getElementById('q').value === ${JSON.stringify(beforeError)}`, 'query restored by back');
  await waitFor(`document.getElementById('q-error').hidden`, 'error cleared');
  await idle();

  // ---- time picker ----
  await click('#time-btn');
  await waitFor(`!document.getElementById('time-pop').hidden`, 'time picker open');
  assert.match(await evaluate(`document.getElementById('abs-from').value`), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  await shot('05-time-picker');
  await click('#quick-ranges button:first-child');
  await waitHash(`location.hash.includes('now-15m')`, 'quick range');
  await waitFor(`document.getElementById('time-label').textContent === 'Last 15 minutes'`, 'range label');
  await idle();
  assert.ok(await evaluate(`document.getElementById('time-pop').hidden`));

  // ---- histogram drag zooms ----
  {
    const a = await center('#hist .h-bar[data-i="10"]');
    const b = await center('#hist .h-bar[data-i="20"]');
    const { y } = await center('#hist');
    await mouse('mouseMoved', a.x, y);
    await mouse('mousePressed', a.x, y, 0, 1);
    await mouse('mouseMoved', (a.x + b.x) / 2, y, 0, 1);
    await mouse('mouseMoved', b.x, y, 0, 1);
    await shot('06-hist-drag');
    await mouse('mouseReleased', b.x, y, 0, 0);
    await waitHash(`location.hash.includes('from=20')`, 'absolute zoom range');
    await idle();
    const s = await hashState();
    const span = Date.parse(s.to) - Date.parse(s.from);
    assert.equal(span, 11 * 15_000, 'eleven 15 s buckets');
    assert.equal(await evaluate(`document.getElementById('hist-reset').hidden`), false);
    assert.match(await evaluate(`document.getElementById('time-label').textContent`), /→/);
  }

  // ---- help popover ----
  await evaluate(`document.activeElement && document.activeElement.blur()`);
  await press('?');
  await waitFor(`!document.getElementById('help').hidden`, 'help open');
  await shot('07-help');
  await press('Escape');
  await waitFor(`document.getElementById('help').hidden`, 'help closed');

  // ---- pagination, live toggle, empty and server-error states ----
  await click('#hist-reset');
  await waitHash(`location.hash.includes('now-24h')`, 'reset range');
  await idle();
  await typeQuery('');
  await waitFor(`document.getElementById('total').textContent === '1,234 events'`, 'all events');
  await idle();
  await click('#page-next');
  await waitHash(`location.hash.includes('page=2')`, 'page 2');
  // The hash changes before the new search starts: wait for its result, not just for idle.
  await waitFor(`/^51–100 of 1,234 · page 2 of 25/.test(document.getElementById('page-text').textContent)`, 'page 2 rendered');
  await idle();
  assert.match(await evaluate(`document.getElementById('page-text').textContent`), /^51–100 of 1,234 · page 2 of 25/);
  await evaluate(`document.activeElement && document.activeElement.blur()`);
  await press('j');
  assert.equal(await evaluate(`document.activeElement.closest('#rows tr') ? document.activeElement.dataset.index : null`), '0');
  await press('Enter');
  await waitFor(`!document.getElementById('detail').hidden`, 'detail via keyboard');
  await press('Escape');

  await click('.live-toggle');
  await waitHash(`location.hash.includes('live=1')`, 'live on');
  await waitFor(`document.body.classList.contains('is-live')`, 'live class');
  await idle();
  await click('.live-toggle');
  await waitHash(`!location.hash.includes('live=1')`, 'live off');
  // hashchange fires after the hash is set: wait for its handler before typing a new query.
  await waitFor(`!document.body.classList.contains('is-live')`, 'live class off');
  await idle();

  await typeQuery('nothing');
  await waitFor(`!document.getElementById('results-msg').hidden`, 'empty state');
  assert.match(await evaluate(`document.getElementById('results-msg').textContent`), /No events match/);
  await idle();

  await typeQuery('boom');
  await waitFor(`document.getElementById('results-msg').classList.contains('is-error')`, 'server error state');
  assert.match(await evaluate(`document.getElementById('q-error').textContent`), /Search failed: internal: storage segment unavailable/);
  await idle();

  // ---- alerts view ----
  await click('#nav-alerts');
  await waitHash(`location.hash.includes('view=alerts')`, 'alerts view');
  await waitFor(`document.querySelectorAll('#alert-rows tr').length === 11`, '11 open or acknowledged alerts');
  await waitFor(`!document.body.classList.contains('is-loading')`, 'alerts loaded');
  assert.equal(await evaluate(`document.getElementById('search-layout').hidden`), true);
  assert.equal(await evaluate(`document.getElementById('alerts-total').textContent`), '11 alerts');
  assert.equal(await evaluate(`document.getElementById('nav-alerts').getAttribute('aria-current')`), 'page');
  assert.equal(await evaluate(`document.querySelector('.live-toggle').offsetParent`), null, 'live switch hidden');
  await waitFor(`document.getElementById('alerts-live-text').textContent === 'Live'`, 'stream connected');
  {
    // Alert 0 (newest, critical) carries hostile strings: they render as text.
    const cells = await evaluate(`[...document.querySelectorAll('#alert-rows tr:first-child td')].map((td) => td.textContent)`);
    assert.equal(cells[0], 'critical');
    assert.equal(cells[1], `SSH brute force ${HOSTILE.img}`);
    assert.equal(cells[2], `host.name=${HOSTILE.breakout} user.name=${HOSTILE.quoteBackslash}`);
    assert.equal(cells[3], '2');
    assert.equal(cells[6], 'open');
    assert.equal(cells[7], 'T1110, T1110.001');
    assert.ok(await evaluate(`document.querySelector('#alert-rows tr:first-child .sev').classList.contains('sev-critical')`));
  }
  await assertInert();
  await shot('09-alerts');

  // A new alert published after the page connected appears on top, with the badge.
  server.alerts.push(makeAlert(50, { minutesAgo: -1, level: 'high', title: 'Live: password spraying' }));
  await waitFor(`document.querySelector('#alert-rows tr:first-child .c-rule').textContent === 'Live: password spraying'`, 'live alert on top');
  assert.equal(await evaluate(`document.querySelectorAll('#alert-rows tr').length`), 12);
  assert.equal(await evaluate(`document.getElementById('alerts-total').textContent`), '12 alerts');
  assert.equal(await evaluate(`document.getElementById('alerts-badge').hidden`), false);
  assert.equal(await evaluate(`document.getElementById('alerts-badge').textContent`), '1');
  assert.equal(await evaluate(`document.getElementById('alerts-new').textContent`), '1 new');
  assert.ok(await evaluate(`document.querySelector('#alert-rows tr:first-child').classList.contains('is-new')`));
  // One that does not match the filters (closed) is not added.
  server.alerts.push(makeAlert(51, { minutesAgo: -2, status: 'closed', title: 'Closed elsewhere' }));
  await sleep(300);
  assert.equal(await evaluate(`document.querySelectorAll('#alert-rows tr').length`), 12);

  // Open it: the badge clears, the panel shows fields, event links and history.
  await click('#alert-rows tr:first-child td.c-rule');
  await waitHash(`location.hash.includes('id=a')`, 'alert selected');
  await waitFor(`!document.getElementById('alert-detail').hidden && document.getElementById('ad-title').textContent === 'Live: password spraying'`, 'alert detail');
  assert.equal(await evaluate(`document.getElementById('alerts-badge').hidden`), true);
  assert.deepEqual(await evaluate(`[...document.querySelectorAll('#ad-events .link-btn')].map((b) => b.textContent)`), ['evt-100050', 'evt-100150']);
  assert.deepEqual(await evaluate(`[...document.querySelectorAll('#ad-status-btns button')].map((b) => b.textContent)`), ['Acknowledge', 'Close']);
  assert.match(await evaluate(`document.querySelector('#ad-history li').textContent`), /Alert created by detection/);

  // Acknowledge with a comment, as a named analyst.
  await evaluate(`(() => { document.getElementById('ad-user').value = 'lan'; document.getElementById('ad-comment').value = ${JSON.stringify(`checking ${HOSTILE.img}`)}; })()`);
  await click('#ad-status-btns button[data-status="acknowledged"]');
  await waitFor(`document.querySelectorAll('#ad-history li').length === 2`, 'history grows');
  assert.equal(await evaluate(`document.querySelector('#ad-history li:last-child .ad-h-text').textContent`), 'lan changed status open → acknowledged');
  assert.equal(await evaluate(`document.querySelector('#ad-history li:last-child .ad-h-comment').textContent`), `checking ${HOSTILE.img}`);
  assert.deepEqual(await evaluate(`[...document.querySelectorAll('#ad-status-btns button')].map((b) => b.textContent)`), ['Close', 'Back to open']);
  await waitFor(`document.querySelector('#alert-rows tr:first-child .st').textContent === 'acknowledged'`, 'row status updated');
  assert.equal(await evaluate(`document.getElementById('ad-comment').value`), '');
  // Assign.
  await evaluate(`document.getElementById('ad-assignee').value = 'minh'`);
  await click('#ad-assign');
  await waitFor(`document.querySelectorAll('#ad-history li').length === 3`, 'assigned');
  await waitFor(`document.querySelector('#alert-rows tr:first-child .assignee') && document.querySelector('#alert-rows tr:first-child .assignee').textContent === 'minh'`, 'assignee in row');
  // Close it: it leaves the list of open and acknowledged alerts; only Reopen is left.
  await click('#ad-status-btns button[data-status="closed"]');
  await waitFor(`document.querySelector('#alert-rows tr:first-child .c-rule').textContent !== 'Live: password spraying'`, 'closed alert leaves the active list');
  await waitFor(`document.querySelectorAll('#ad-status-btns button').length === 1`, 'reopen only');
  await assertInert();
  await shot('10-alert-detail');
  await press('Escape');
  await waitHash(`!location.hash.includes('id=')`, 'detail closed');
  await waitFor(`document.getElementById('alert-detail').hidden`, 'panel hidden');

  // Filters go to the URL and the list.
  await evaluate(`(() => { const s = document.getElementById('af-severity'); s.value = 'critical'; s.dispatchEvent(new Event('change')); })()`);
  await waitHash(`location.hash.includes('severity=critical')`, 'severity filter');
  await waitFor(`document.querySelectorAll('#alert-rows tr').length === 2`, 'critical alerts only');
  assert.deepEqual(parseAlertsHash(await evaluate('location.hash')), { status: 'active', severity: 'critical', kind: '', q: '', id: '' });
  assert.equal(await evaluate(`document.getElementById('af-severity').value`), 'critical');

  // The live feed fell behind: the list is reloaded and the analyst told.
  server.alerts.lag(5);
  await waitFor(`document.getElementById('alerts-note').textContent.includes('missed 5 updates')`, 'lag note');

  // A matched event id links to the search view.
  await click('#alert-rows tr:first-child td.c-rule');
  await waitFor(
    `!document.getElementById('alert-detail').hidden && document.getElementById('ad-title').textContent === ${JSON.stringify(`SSH brute force ${HOSTILE.img}`)} && document.querySelectorAll('#ad-events .link-btn').length === 2`,
    'event links of the hostile alert',
  );
  assert.equal(await evaluate(`document.querySelector('#ad-events li:last-child .link-btn').textContent`), 'invoice⟨U+202E⟩txt.exe');
  await click('#ad-events li:first-child .link-btn');
  await waitHash(`location.hash.startsWith('#q=event.id%3A')`, 'search for the event');
  await idle();
  assert.equal(await evaluate(`document.getElementById('q').value`), 'event.id:"evt-100000"');
  assert.equal(await evaluate(`document.getElementById('alerts-view').hidden`), true);
  assert.equal(await evaluate(`document.getElementById('alert-detail').hidden`), true);
  // Back returns to the alert.
  await evaluate('history.back()');
  await waitHash(`location.hash.includes('view=alerts')`, 'back to alerts');
  await waitFor(`!document.getElementById('alert-detail').hidden`, 'alert panel again');
  await press('Escape');
  await waitHash(`!location.hash.includes('id=')`, 'detail closed again');
  await click('#nav-search');
  await waitHash(`!location.hash.includes('view=alerts')`, 'back to search');
  await idle();

  // ---- laptop size ----
  await typeQuery('');
  await waitFor(`document.getElementById('total').textContent === '1,234 events'`, 'all events again');
  await idle();
  await send('Emulation.setDeviceMetricsOverride', { width: 1280, height: 720, deviceScaleFactor: 1, mobile: false });
  await sleep(300);
  await click('#rows tr:nth-child(3) td.c-msg');
  await waitFor(`!document.getElementById('detail').hidden`, 'detail at laptop size');
  assert.equal(await evaluate(`document.documentElement.scrollWidth <= 1280`), true, 'no horizontal page scroll at 1280px');
  await shot('08-laptop-detail');

  await assertInert();
  assert.deepEqual(problems, [], 'no dialogs, CSP violations, exceptions or console errors');
});
