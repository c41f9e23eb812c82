/* dashboard.test.mjs — the dashboard in headless chromium against the real
 * plus7d, PostgreSQL and tgsim (meson suite "browser"; node's test runner,
 * TAP output).
 *
 * Purpose: a manager signs in; the summary's four charts are drawn; the
 * zone and period filters change the numbers to what the test's own data
 * set says; CSV and XLSX download for the chosen zone (bytes checked); a
 * client named <img src=x onerror=alert(1)> is shown as text on the list
 * and on the order page with no dialog; a status changed through the
 * logistics webhook reaches the open list and order pages over the
 * websocket, and again after plus7d restarts (the page reconnects by itself);
 * an operator's one-time link from the bot opens a session and
 * a second use is refused; a phone-sized window has no sideways scroll;
 * no page error or CSP violation happened; plus7d exits cleanly. Each page
 * is saved as a PNG under $SHOTS_DIR (the build dir) for a person to look
 * at.
 *
 * The cases run in order and share one browser and one data set (seeded in
 * `before`): five orders in the Донецк zone, three in Макеевка, through the
 * signed logistics webhook, some delivered or cancelled.
 * Thread: node's one thread.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
    env, launchBrowser, logTails, logistics, plus7d, restartPlus7d, setUp, sql, sqlUntil, tearDown, texts, tg,
} from './harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const PASSWORD = 'browser-test-password-Ё1';
const PICKUP = { donetsk: 'ПВЗ на Ильича', makeevka: 'ПВЗ «Зелёный»' };   // seed's pickup points
const OPERATOR = { id: 90901, phone: '+79001000901' };

/* The data set: postings, their zone and final state. */
const ORDERS = [
    { p: '88000001-0001-1', zone: 'donetsk', end: 'delivered', days: 1 },
    { p: '88000002-0001-1', zone: 'donetsk', end: 'delivered', days: 2 },
    { p: '88000003-0001-1', zone: 'donetsk', end: 'cancelled', days: 3 },
    { p: '88000004-0001-1', zone: 'donetsk', end: null, days: 4, xss: true },
    { p: '88000005-0001-1', zone: 'donetsk', end: null, days: 5 },
    { p: '88000006-0001-1', zone: 'makeevka', end: 'delivered', days: 1 },
    { p: '88000007-0001-1', zone: 'makeevka', end: null, days: 2 },
    { p: '88000008-0001-1', zone: 'makeevka', end: null, days: 6 },
];
const LIVE_POSTING = '88000005-0001-1';

let base, browser, ctx, page;
const pageErrors = [];
const cspViolations = [];
let dialogs = 0;
let zoneIds = {};

const shot = (name, p = page) => p.screenshot({ path: path.join(env.shots, `${name}.png`), fullPage: true });

function watch(p) {
    p.on('pageerror', (e) => pageErrors.push(e.message));
    p.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
    p.on('dialog', (d) => { dialogs += 1; d.dismiss().catch(() => {}); });
    return p;
}

async function newPage(viewport = { width: 1366, height: 900 }) {
    const c = await browser.newContext({ viewport, locale: 'ru-RU', acceptDownloads: true, timezoneId: 'Europe/Moscow' });
    return { c, p: watch(await c.newPage()) };
}

const kpi = (p, key) => p.locator(`[data-kpi="${key}"] .kpi-value`).innerText();

/* Waits until the KPI card shows `want` (the page re-renders on a filter). */
async function kpiIs(p, key, want) {
    await p.waitForFunction(([k, w]) => {
        const el = document.querySelector(`[data-kpi="${k}"] .kpi-value`);
        return el && el.textContent === w;
    }, [key, want], { timeout: 20000 }).catch(async () => {
        assert.fail(`KPI ${key}: wanted ${want}, page shows ${await kpi(p, key).catch(() => '(none)')}`);
    });
}

/* Coloured (series) pixels on the chart's canvas: grid and axes are grey. */
function colouredPixels(p, id) {
    return p.evaluate((sel) => {
        const c = document.querySelector(`${sel} canvas`);
        if (!c || !c.width) return 0;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4)
            if (d[i + 3] > 200 && Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
        return n;
    }, `#${id}`);
}

async function seed() {
    for (const [login, role] of [['manager1', 'manager'], ['operator1', 'operator']]) {
        const r = await plus7d(['user', 'add', login, role], `${PASSWORD}\n`);
        assert.equal(r.code, 0, `plus7d user add ${login}: ${r.stderr}`);
    }
    const now = Date.now();
    const iso = (ms) => new Date(ms).toISOString();
    let r = await logistics(ORDERS.map((o, i) => ({
        id: `b-arrive-${i}`, posting_number: o.p, status: 'at_pickup_point', at: iso(now - 3600e3),
        pickup_point: PICKUP[o.zone],
    })));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await sqlUntil("SELECT count(*) FROM orders WHERE posting_number LIKE '880000%' AND status = 'at_pickup_point'",
        ORDERS.length);
    // Orders came in over the past days: their creation time is moved back
    // (the rollup triggers follow created_at).
    for (const o of ORDERS)
        await sql("UPDATE orders SET created_at = now() - (:'d' || ' days')::interval - interval '2 hours'"
            + " WHERE posting_number = :'p'", { d: o.days, p: o.p });
    const xss = ORDERS.find((o) => o.xss);
    await sql("UPDATE orders SET customer_name = :'n', addressee_name = :'n' WHERE posting_number = :'p'", { n: XSS, p: xss.p });
    const ends = ORDERS.filter((o) => o.end);
    r = await logistics(ends.map((o, i) => ({ id: `b-end-${i}`, posting_number: o.p, status: o.end, at: iso(now - 60e3) })));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await sqlUntil("SELECT count(*) FROM orders WHERE posting_number LIKE '880000%' AND status IN ('delivered', 'cancelled')",
        ends.length);
    for (const [z, name] of [['donetsk', 'Донецк'], ['makeevka', 'Макеевка']])
        zoneIds[z] = (await sql("SELECT id FROM delivery_zones WHERE name = :'n'", { n: name }))[0][0];
}

before(async () => {
    try {
        ({ base } = await setUp());
        await seed();
        browser = await launchBrowser();
        ({ c: ctx, p: page } = await newPage());
    } catch (e) {
        logTails(25);
        throw e;
    }
});

after(async () => {
    if (browser) await browser.close();
    await tearDown();
});

const count = (pred) => ORDERS.filter(pred).length;

test('a wrong password is refused and the manager signs in', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#login');
    await shot('login');
    await page.fill('#login', 'manager1');
    await page.fill('#password', 'not-the-password');
    await page.click('form.login-form button[type=submit]');
    await page.waitForSelector('.login-status [role=alert]');
    assert.equal(await page.locator('#logout').count(), 0);

    await page.fill('#password', PASSWORD);
    await page.click('form.login-form button[type=submit]');
    await page.waitForSelector('#logout');
    assert.match(await page.locator('.who').innerText(), /manager1/);
    // manager's home is the summary; sections to come are labels, not links
    await page.waitForSelector('nav a[aria-current="page"][href^="#/summary"]');
    assert.equal(await page.locator('nav .nav-soon').count(), 4);
    assert.equal(await page.locator('nav .nav-soon a').count(), 0);
});

test('the summary shows the data set and draws its four charts', async () => {
    await kpiIs(page, 'created', String(ORDERS.length));
    await kpiIs(page, 'delivered', String(count((o) => o.end === 'delivered')));
    await kpiIs(page, 'cancelled', String(count((o) => o.end === 'cancelled')));
    await kpiIs(page, 'waiting', String(count((o) => !o.end)));
    for (const id of ['chart-orders', 'chart-times', 'chart-notifications', 'chart-waiting']) {
        await page.waitForSelector(`#${id} canvas`, { timeout: 20000 });
        const n = await colouredPixels(page, id);
        assert.ok(n > 50, `${id}: ${n} coloured pixels`);
    }
    const rows = await page.locator('#zones-table tbody tr[data-zone]').count();
    assert.ok(rows >= 2, `zone table rows: ${rows}`);
    const zoneRow = (id) => page.locator(`#zones-table tr[data-zone="${id}"] td`).first().innerText();
    assert.equal(await zoneRow(zoneIds.donetsk), String(count((o) => o.zone === 'donetsk')));
    assert.equal(await zoneRow(zoneIds.makeevka), String(count((o) => o.zone === 'makeevka')));
    // no couriers in this data set: the courier-load panel says so
    await page.waitForSelector('#couriers [role=status]');
    await shot('summary');
});

test('zone and period filters change the numbers', async () => {
    await page.selectOption('#f-zone', zoneIds.donetsk);
    await kpiIs(page, 'created', String(count((o) => o.zone === 'donetsk')));
    assert.match(page.url(), new RegExp(`zone=${zoneIds.donetsk}`));
    await page.selectOption('#f-zone', zoneIds.makeevka);
    await kpiIs(page, 'created', String(count((o) => o.zone === 'makeevka')));
    await kpiIs(page, 'delivered', String(count((o) => o.zone === 'makeevka' && o.end === 'delivered')));

    // a period before any order: nothing
    await page.selectOption('#f-zone', '');
    const from = await page.inputValue('#f-from');
    const d = new Date(`${from}T12:00:00Z`);
    const ymd = (k) => new Date(d.getTime() - k * 86400e3).toISOString().slice(0, 10);
    await page.fill('#f-to', ymd(30));
    await page.dispatchEvent('#f-to', 'change');
    await page.fill('#f-from', ymd(60));
    await page.dispatchEvent('#f-from', 'change');
    await kpiIs(page, 'created', '0');
    // the hour grouping keeps the period's numbers
    await page.goto(`${base}/#/summary?group=hour`);
    await kpiIs(page, 'created', String(ORDERS.length));
    await page.waitForSelector('#chart-orders canvas');
    await shot('summary-by-hour');
});

test('CSV and XLSX download for the chosen period and zone', async () => {
    await page.goto(`${base}/#/summary?zone=${zoneIds.donetsk}`);
    await kpiIs(page, 'created', String(count((o) => o.zone === 'donetsk')));
    const fetchDownload = async (sel) => {
        const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click(sel)]);
        const file = await dl.path();
        return { name: dl.suggestedFilename(), bytes: fs.readFileSync(file) };
    };
    const csv = await fetchDownload('#export-csv');
    assert.match(csv.name, /\.csv$/);
    assert.deepEqual([...csv.bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 BOM');
    const text = csv.bytes.toString('utf8');
    const donetsk = ORDERS.filter((o) => o.zone === 'donetsk').map((o) => o.p);
    for (const p of donetsk) assert.ok(text.includes(p), `CSV lacks ${p}`);
    for (const o of ORDERS.filter((x) => x.zone !== 'donetsk')) assert.ok(!text.includes(o.p), `CSV has ${o.p} of another zone`);
    assert.ok(text.includes(XSS), 'the client name travels unchanged in the CSV');

    const xlsx = await fetchDownload('#export-xlsx');
    assert.match(xlsx.name, /\.xlsx$/);
    assert.equal(xlsx.bytes.subarray(0, 4).toString('binary'), 'PK\x03\x04', 'a ZIP container');
    for (const part of ['[Content_Types].xml', 'xl/workbook.xml', 'xl/worksheets/sheet1.xml', 'xl/worksheets/sheet2.xml'])
        assert.ok(xlsx.bytes.includes(Buffer.from(part)), `XLSX lacks ${part}`);
});

test('a client named <img src=x onerror=alert(1)> is shown as text', async () => {
    const x = ORDERS.find((o) => o.xss);
    await page.goto(`${base}/#/orders?q=${encodeURIComponent(x.p)}`);
    const cell = page.locator(`#orders-table tr[data-posting="${x.p}"] td.client`);
    await cell.waitFor({ timeout: 20000 });
    assert.equal(await cell.textContent(), XSS);
    assert.equal(await page.locator('main img').count(), 0);
    await shot('orders-xss');

    await page.click(`#orders-table tr[data-posting="${x.p}"] a`);
    await page.waitForSelector('.order-card [data-field="client"] dd');
    assert.equal(await page.locator('.order-card [data-field="client"] dd').textContent(), XSS);
    assert.equal(await page.locator('main img').count(), 0);
    // no dialog: checked again at the end, after many later round trips
    assert.equal(dialogs, 0, 'a dialog was opened');
    assert.ok((await page.locator('.timeline li').count()) >= 1, 'the timeline lists the order\'s events');
    await shot('order-xss');
});

test('the orders list pages with «Показать ещё», searches and filters by status', async () => {
    await page.goto(`${base}/#/orders`);
    await page.waitForSelector('#orders-table tbody tr[data-posting]');
    assert.equal(await page.locator('#orders-table tbody tr[data-posting]').count(), ORDERS.length);
    await shot('orders');
    assert.ok(await page.locator('#more').isHidden(), 'one page holds every order');
    // keyset paging in pages of 3: «Показать ещё» twice, then no more
    await page.goto(`${base}/#/orders?limit=3`);
    const rows = () => page.locator('#orders-table tbody tr[data-posting]');
    await page.waitForFunction(() => document.querySelectorAll('#orders-table tbody tr[data-posting]').length === 3);
    for (const want of [6, ORDERS.length]) {
        await page.click('#more');
        await page.waitForFunction((n) => document.querySelectorAll('#orders-table tbody tr[data-posting]').length === n, want);
    }
    assert.ok(await page.locator('#more').isHidden(), '«Показать ещё» is gone after the last page');
    const seen = await rows().evaluateAll((trs) => trs.map((tr) => tr.dataset.posting));
    assert.deepEqual([...seen].sort(), ORDERS.map((o) => o.p).sort(), 'every order once');
    // search by posting prefix, then by a part of the name
    const onlyRow = (p) => page.waitForFunction((want) => {
        const trs = document.querySelectorAll('#orders-table tbody tr[data-posting]');
        return trs.length === 1 && trs[0].dataset.posting === want;
    }, p);
    await page.fill('#q', '88000006');
    await page.click('form.search button[type=submit]');
    await onlyRow('88000006-0001-1');
    await page.fill('#q', 'ONERROR');
    await page.click('form.search button[type=submit]');
    await onlyRow(ORDERS.find((o) => o.xss).p);
    assert.match(page.url(), /q=ONERROR/);
    // the status filter (the search cleared)
    await page.goto(`${base}/#/orders`);
    await page.waitForSelector('#orders-table tbody tr[data-posting]');
    await page.selectOption('#status', 'cancelled');
    await onlyRow(ORDERS.find((o) => o.end === 'cancelled').p);
    assert.match(page.url(), /status=cancelled/);
});

test('a status change through the logistics webhook reaches open pages live', async () => {
    await page.goto(`${base}/#/orders`);
    await page.waitForSelector(`#orders-table tr[data-posting="${LIVE_POSTING}"]`);
    const { c: c2, p: orderPage } = await newPage();
    await c2.addCookies(await ctx.cookies());
    await orderPage.goto(`${base}/#/orders/${LIVE_POSTING}`);
    await orderPage.waitForSelector('.order-card');
    for (const p of [page, orderPage])
        await p.waitForSelector('html[data-live="open"]', { timeout: 20000 });
    const before = await orderPage.locator('.order-card [data-field="status"] dd').textContent();

    const r = await logistics([{ id: 'b-live-1', posting_number: LIVE_POSTING, status: 'delivered', at: new Date().toISOString() }]);
    assert.equal(r.status, 200);
    await page.waitForSelector(`#orders-table tr[data-posting="${LIVE_POSTING}"] td.status[data-status="delivered"]`, { timeout: 20000 });
    await orderPage.waitForFunction((b) => {
        const dd = document.querySelector('.order-card [data-field="status"] dd');
        return dd && dd.textContent !== b;
    }, before, { timeout: 20000 });
    await orderPage.waitForSelector('.order-note [role=status]');
    await shot('order-live', orderPage);
    await c2.close();
});

test('an operator signs in with the bot\'s one-time link; a second use is refused', async () => {
    const t = texts();
    let r = await plus7d(['role', OPERATOR.phone, 'operator']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await tg('POST', '/control/users', { id: OPERATOR.id, first_name: 'Ольга', phone: OPERATOR.phone, language_code: 'ru' })).status, 200);
    const waitBot = async (n) => {
        const w = await tg('GET', `/control/chats/${OPERATOR.id}/wait?count=${n}&timeout=30`);
        assert.equal(w.status, 200, `bot messages: wanted ${n}`);
        return w.body.messages;
    };
    assert.equal((await tg('POST', `/control/users/${OPERATOR.id}/command`, { command: 'start' })).status, 200);
    await waitBot(1);
    assert.equal((await tg('POST', `/control/users/${OPERATOR.id}/press_reply`, { text: t.T_BTN_SHARE_PHONE })).status, 200);
    const n = (await waitBot(2)).length;
    const press = await tg('POST', `/control/users/${OPERATOR.id}/press_reply`, { text: t.T_BTN_DASHBOARD });
    assert.equal(press.status, 200, JSON.stringify(press.body));
    const msgs = await waitBot(n + 1);
    const url = msgs.flatMap((m) => (m.reply_markup && m.reply_markup.inline_keyboard) || []).flat()
        .map((b) => b.url).find((u) => u && u.includes('/api/session/bot?token='));
    assert.ok(url, 'a URL button with the sign-in link');
    assert.ok(url.startsWith(base), url);

    const { c: c3, p: op } = await newPage();
    const res = await op.goto(url);
    assert.equal(res.status(), 200);
    assert.equal(new URL(op.url()).pathname, '/');
    await op.waitForSelector('#logout');
    assert.match(await op.locator('.who').innerText(), /оператор/);
    // an operator's home is the orders list; analytics are not offered
    await op.waitForSelector('nav a[aria-current="page"][href^="#/orders"]');
    assert.equal(await op.locator('nav a[href^="#/summary"]').count(), 0);
    await shot('operator-from-bot', op);
    // typed in by hand, the summary says it is for managers (the API refuses it too)
    await op.goto(`${url.slice(0, url.indexOf('/api/'))}/#/summary`);
    await op.waitForSelector('main [role=alert]');
    assert.equal(await op.locator('[data-kpi]').count(), 0);
    assert.equal(await op.evaluate(async () => (await fetch('/api/analytics/summary')).status), 403);
    await c3.close();

    const { c: c4, p: again } = await newPage();
    const res2 = await again.goto(url);
    assert.equal(res2.status(), 401);
    await again.goto(`${base}/`);
    await again.waitForSelector('#login');
    assert.equal(await again.locator('#logout').count(), 0);
    await c4.close();
});

test('after plus7d restarts, the websocket reconnects and updates flow again', async () => {
    const posting = '88000007-0001-1';
    await page.goto(`${base}/#/orders/${posting}`);
    await page.waitForSelector('.order-card');
    await page.waitForSelector('html[data-live="open"]', { timeout: 20000 });
    const closed = page.waitForSelector('html[data-live="closed"]', { timeout: 30000 });
    const exit = await restartPlus7d();
    assert.deepEqual(exit, { code: 0, signal: null }, 'plus7d stopped cleanly for the restart');
    await closed;
    await page.waitForSelector('html[data-live="open"]', { timeout: 60000 });
    // the session survived (it lives in PostgreSQL), and frames arrive again
    const r = await logistics([{ id: 'b-live-2', posting_number: posting, status: 'delivered', at: new Date().toISOString() }]);
    assert.equal(r.status, 200);
    await page.waitForSelector('.order-note [role=status]', { timeout: 20000 });
    await page.waitForFunction(() => {
        const dd = document.querySelector('.order-card [data-field="status"] dd');
        return dd && dd.textContent === document.querySelector('.order-note [role=status]').textContent.split(': ').pop();
    }, null, { timeout: 20000 });
    assert.equal(await page.locator('#logout').count(), 1);
});

test('on a phone-sized window every page fits the width', async () => {
    const { c, p } = await newPage({ width: 390, height: 844 });
    await c.addCookies(await ctx.cookies());
    for (const [name, hash, sel] of [
        ['phone-summary', '#/summary', '#chart-orders canvas'],
        ['phone-orders', '#/orders', '#orders-table tbody tr[data-posting]'],
        ['phone-order', `#/orders/${LIVE_POSTING}`, '.timeline'],
    ]) {
        await p.goto(`${base}/${hash}`);
        await p.waitForSelector(sel, { timeout: 20000 });
        const over = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(over <= 0, `${name}: ${over}px wider than the window`);
        await shot(name, p);
    }
    await c.close();
});

test('signing out ends the session', async () => {
    await page.goto(`${base}/#/orders`);
    await page.click('#logout');
    await page.waitForSelector('#login');
    const r = await page.evaluate(async () => (await fetch('/api/me')).status);
    assert.equal(r, 401);
});

test('no script error and no CSP violation on any page', () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(cspViolations, []);
    assert.equal(dialogs, 0);
});

test('plus7d stops cleanly', async () => {
    if (browser) { await browser.close(); browser = null; }
    const exit = await tearDown();
    if (!exit || exit.code !== 0) logTails(25);
    assert.deepEqual(exit, { code: 0, signal: null });
});
