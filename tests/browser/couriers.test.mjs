/* couriers.test.mjs — «Курьеры» in headless chromium against the real
 * plus7d, PostgreSQL and tgsim (meson suite "browser"; node's test runner,
 * TAP output).
 *
 * Purpose: two couriers (one named <img src=x onerror=alert(1)>) start a
 * shift in the emulated Telegram and share a live location; an admin opens
 * the map: both markers, the zones and the load table are there, the name
 * is text; a live-location edit in tgsim moves the marker on the open page
 * (websocket) and a quiet courier turns stale; a delivery of today shows
 * as a pin and is assigned to a courier from the page (the courier then
 * gets the card in Telegram); the track of the day draws. No tile server is
 * reachable here, so this is also the map without tiles. Screenshots land
 * in $SHOTS_DIR.
 * Thread: node's one thread.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';

import { env, launchBrowser, logTails, plus7d, setUp, sql, sqlUntil, tearDown, texts, tg } from './harness.mjs';

const XSS = '<img src=x onerror=alert(1)>';
const PASSWORD = 'couriers-test-password-Ё2';
const A = { id: 91001, phone: '+79001001001', name: 'Курьер Алексей' };
const B = { id: 91002, phone: '+79001001002', name: XSS };
const DONETSK = [48.0159, 37.8028];

let base, browser, page;
const pageErrors = [];
let dialogs = 0;
const live = {};
const T = texts();

const shot = (name) => page.screenshot({ path: path.join(env.shots, `${name}.png`), fullPage: true });

async function act(uid, action, body = {}) {
    const r = await tg('POST', `/control/users/${uid}/${action}`, body);
    assert.equal(r.status, 200, `${action}: ${JSON.stringify(r.body)}`);
    return r.body;
}

/* Waits until the bot has sent n messages to the private chat of uid. */
async function botMessages(uid, n, timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const r = await tg('GET', `/control/chats/${uid}`);
        if (r.status === 200 && r.body && r.body.bot_messages >= n) return;
        if (Date.now() > end) throw new Error(`chat ${uid}: fewer than ${n} bot messages`);
        await new Promise((res) => setTimeout(res, 100));
    }
}

/* A courier registers, starts a shift and shares a live location. */
async function courierOnShift(c, lat, lon) {
    assert.equal((await plus7d(['role', c.phone, 'courier'])).code, 0);
    assert.equal((await tg('POST', '/control/users', { id: c.id, first_name: c.name, phone: c.phone })).status, 200);
    await act(c.id, 'command', { command: 'start' });
    await botMessages(c.id, 1);   // the greeting with the share-phone button
    await act(c.id, 'press_reply', { text: T.T_BTN_SHARE_PHONE });
    await sqlUntil("SELECT count(*) FROM users WHERE tg_user_id = :'u'", '1', { u: String(c.id) });
    await botMessages(c.id, 2);   // the courier's menu
    await act(c.id, 'press_reply', { text: T.T_BTN_SHIFT_START });
    await sqlUntil("SELECT count(*) FROM couriers WHERE tg_user_id = :'u' AND on_shift", '1', { u: String(c.id) });
    const m = await act(c.id, 'live_start', { latitude: lat, longitude: lon, live_period: 3600 });
    live[c.id] = m.message_id;
    await sqlUntil("SELECT count(*) FROM couriers WHERE tg_user_id = :'u' AND lat IS NOT NULL", '1', { u: String(c.id) });
}

/* Polls `text` until it gives a row; its first value. */
async function sqlSome(text, timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const rows = await sql(text);
        if (rows.length && rows[0][0]) return rows[0][0];
        if (Date.now() > end) throw new Error(`sqlSome: no row from ${text}`);
        await new Promise((r) => setTimeout(r, 100));
    }
}

const courierId = async (c) => (await sql("SELECT id FROM couriers WHERE tg_user_id = :'u'", { u: String(c.id) }))[0][0];

/* The marker's position on the screen (Leaflet draws vector markers as SVG paths). */
async function markerBox(id) {
    const el = page.locator(`path[data-courier="${id}"]`);
    await el.waitFor({ state: 'attached', timeout: 20000 });
    return el.getAttribute('d');
}

before(async () => {
    try {
        ({ base } = await setUp());
        const r = await plus7d(['user', 'add', 'admin1', 'admin'], `${PASSWORD}\n`);
        assert.equal(r.code, 0, r.stderr);
        await courierOnShift(A, DONETSK[0], DONETSK[1]);
        await courierOnShift(B, DONETSK[0] + 0.02, DONETSK[1] + 0.01);
        browser = await launchBrowser();
        const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: 'ru-RU', timezoneId: 'Europe/Moscow' });
        page = await ctx.newPage();
        page.on('pageerror', (e) => pageErrors.push(e.message));
        page.on('dialog', (d) => { dialogs += 1; d.dismiss().catch(() => {}); });
    } catch (e) {
        logTails(25);
        throw e;
    }
});

after(async () => {
    if (browser) await browser.close();
    await tearDown();
});

test('the admin opens the map: markers, zones, load, names as text', async () => {
    await page.goto(`${base}/`);
    await page.waitForSelector('#login');
    await page.fill('#login', 'admin1');
    await page.fill('#password', PASSWORD);
    await page.click('form.login-form button[type=submit]');
    await page.waitForSelector('#logout');
    await page.click('nav a[href^="#/couriers"]');
    await page.waitForSelector('#courier-map .leaflet-map-pane', { state: 'attached' });
    const a = await courierId(A), b = await courierId(B);
    await markerBox(a);
    await markerBox(b);
    assert.ok(await page.locator('#courier-map path.leaflet-interactive').count() >= 5 + 2);   // zones + couriers
    const row = page.locator(`tr[data-courier="${b}"] th`);
    assert.equal(await row.innerText(), XSS);
    assert.equal(await page.locator(`tr[data-courier="${a}"] [data-state]`).getAttribute('data-state'), 'free');
    await shot('couriers-map');
});

test('a live-location edit moves the marker on the open page', async () => {
    const a = await courierId(A);
    const before = await markerBox(a);
    await act(A.id, 'live_move', { message_id: live[A.id], latitude: DONETSK[0] + 0.01, longitude: DONETSK[1] + 0.01 });
    await page.waitForFunction(([id, d]) => {
        const el = document.querySelector(`path[data-courier="${id}"]`);
        return el && el.getAttribute('d') !== d;
    }, [a, before], { timeout: 20000 });
    await shot('couriers-moved');
});

test('a delivery of today is a pin and is assigned from the page', async () => {
    await sql("INSERT INTO orders (posting_number, status, status_source, customer_name) VALUES ('88100001-0001-1', 'accepted', 'logistics', 'Ольга')");
    await sql(`INSERT INTO deliveries (posting_number, tg_user_id, address, lat, lon, zone_id, slot_id, slot_date, slot_start, slot_end, price_kopecks)
               SELECT '88100001-0001-1', 1, 'Донецк, ул. Артёма, 5', 48.01, 37.80, z.id, s.id, msk_today(), s.start_time, s.end_time, 35000
                 FROM delivery_zones z JOIN delivery_slots s ON s.zone_id = z.id WHERE z.name = 'Донецк' ORDER BY s.start_time LIMIT 1`);
    // the dispatcher assigns it (nearest, least loaded); reassign it from the page to the other courier
    const holder = await sqlSome("SELECT c.tg_user_id FROM deliveries d JOIN couriers c ON c.id = d.courier_id WHERE d.posting_number = '88100001-0001-1'");
    const other = String(holder) === String(A.id) ? B : A;
    await page.reload();
    await page.waitForSelector('form.assign-form');
    await page.locator('form.assign-form input[type=checkbox][aria-label="88100001-0001-1"]').check();
    await page.selectOption('form.assign-form select', String(await courierId(other)));
    await page.click('form.assign-form button[type=submit]');
    await page.waitForSelector('.assign-note:has-text("Назначено: 1")');
    await sqlUntil("SELECT c.tg_user_id FROM deliveries d JOIN couriers c ON c.id = d.courier_id WHERE d.posting_number = '88100001-0001-1'",
        String(other.id));
    await sqlUntil("SELECT count(*) FROM tg_outbox WHERE chat_id = :'u' AND dedupe_key LIKE 'card:%' AND status = 'sent'", '1',
        { u: String(other.id) });
    await shot('couriers-assigned');
});

test('the track of the day draws', async () => {
    const a = await courierId(A);
    await page.click(`tr[data-courier="${a}"] th button`);
    await page.waitForSelector('.track-note:has-text("Трек за день")');
    const n = Number((await page.locator('.track-note').innerText()).replace(/\D+/g, ''));
    assert.ok(n >= 2, `track points: ${n}`);
});

test('a quiet courier turns stale on the open page', async () => {
    const b = await courierId(B);
    await sql("UPDATE couriers SET last_at = now() - interval '1 hour' WHERE tg_user_id = :'u'", { u: String(B.id) });
    await page.waitForFunction((id) => {
        const el = document.querySelector(`tr[data-courier="${id}"] [data-state]`);
        return el && el.getAttribute('data-state') === 'stale';
    }, b, { timeout: 40000 });
    await shot('couriers-stale');
});

test('assignment: bad input names the field, CSRF and role are checked', async () => {
    const me = await (await page.request.get(`${base}/api/me`)).json();
    const post = (body, headers = { 'X-CSRF-Token': me.csrf }, req = page.request) =>
        req.post(`${base}/api/couriers/assign`, { data: body, headers });
    let r = await post({ deliveries: 'x', courier: 1 });
    assert.equal(r.status(), 400);
    assert.equal((await r.json()).field, 'deliveries');
    r = await post({ deliveries: [1], courier: 0 });
    assert.equal(r.status(), 400);
    assert.equal((await r.json()).field, 'courier');
    r = await post({ deliveries: [1], courier: 1 }, {});
    assert.equal(r.status(), 403);
    r = await page.request.get(`${base}/api/couriers/999999/track`);
    assert.equal(r.status(), 200);
    assert.deepEqual((await r.json()).points, []);
    r = await page.request.get(`${base}/api/couriers/abc/track`);
    assert.equal(r.status(), 404);
    // a manager may look but not assign
    assert.equal((await plus7d(['user', 'add', 'manager2', 'manager'], `${PASSWORD}\n`)).code, 0);
    const ctx = await browser.newContext();
    const s = await ctx.request.post(`${base}/api/session`, { data: { login: 'manager2', password: PASSWORD } });
    assert.equal(s.status(), 200);
    const csrf = (await s.json()).csrf;
    assert.equal((await ctx.request.get(`${base}/api/couriers/live`)).status(), 200);
    r = await post({ deliveries: [1], courier: 1 }, { 'X-CSRF-Token': csrf }, ctx.request);
    assert.equal(r.status(), 403);
    await ctx.close();
    // without a session: nothing
    const anon = await browser.newContext();
    assert.equal((await anon.request.get(`${base}/api/couriers/live`)).status(), 401);
    await anon.close();
});

test('the summary lists the couriers\' load of the day', async () => {
    await sql("UPDATE deliveries SET stage = 'delivered', done_at = now() WHERE posting_number = '88100001-0001-1'");
    const today = (await sql("SELECT msk_today()"))[0][0];
    const r = await (await page.request.get(`${base}/api/analytics/couriers?from=${today}&to=${today}`)).json();
    const rows = r.couriers.filter((c) => c.deliveries === 1);
    assert.equal(rows.length, 1);
    assert.ok(r.couriers.every((c) => c.shift_s > 0));
    await page.goto(`${base}/#/summary?from=${today}&to=${today}`);
    await page.waitForSelector('#couriers tbody tr[data-courier]');
    assert.equal(await page.locator('#couriers tbody tr[data-courier]').count(), 2);
    await shot('summary-couriers');
});

test('«Оплаты»: a refund and a bank-QR confirmation from the page', async () => {
    await sql(`INSERT INTO pay_attempts (id, posting_number, chat_id, tg_user_id, method, amount_kop, status, paid_at)
               VALUES ('tbrowser1', '88100001-0001-1', 1, 1, 'cash', 35000, 'succeeded', now())`);
    await sql("UPDATE orders SET paid_attempt = 'tbrowser1', paid_kop = 35000, paid_via = 'cash', paid_at = now() WHERE posting_number = '88100001-0001-1'");
    await sql("INSERT INTO orders (posting_number, status, status_source) VALUES ('88100002-0001-1', 'accepted', 'logistics')");
    await sql(`INSERT INTO pay_attempts (id, posting_number, chat_id, tg_user_id, method, amount_kop, status)
               VALUES ('tbrowser2', '88100002-0001-1', 1, 1, 'bank_qr', 42000, 'pending')`);
    await page.goto(`${base}/#/payments`);
    await page.waitForSelector('#payments tr[data-attempt="tbrowser1"]');
    await shot('payments');
    await page.fill('#payments tr[data-attempt="tbrowser1"] input.amount', '100');
    await page.click('#payments tr[data-attempt="tbrowser1"] button[data-action="refund"]');
    await page.waitForSelector('.pay-note:has-text("Возврат")');
    await sqlUntil("SELECT sum(amount_kop) FROM pay_refunds WHERE attempt_id = 'tbrowser1'", '10000');
    await page.click('#payments tr[data-attempt="tbrowser2"] button[data-action="confirm"]');
    await page.waitForSelector('.pay-note:has-text("подтверждена")');
    await sqlUntil("SELECT confirmed_by FROM pay_attempts WHERE id = 'tbrowser2'", 'web:admin1');
    // too much is refused with the field named
    const me = await (await page.request.get(`${base}/api/me`)).json();
    const r = await page.request.post(`${base}/api/payments/refund`, {
        data: { posting: '88100001-0001-1', amount_kop: 999999 }, headers: { 'X-CSRF-Token': me.csrf } });
    assert.equal(r.status(), 400);
    assert.equal((await r.json()).field, 'amount_kop');
});

test('no script error and no dialog', () => {
    assert.deepEqual(pageErrors, []);
    assert.equal(dialogs, 0);
});
