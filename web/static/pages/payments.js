/* pages/payments.js — «Оплаты»: attempts and payments of the period, paid
 * totals per day, and an operator's actions.
 *
 * Purpose: the shared period and zone pickers drive GET /api/payments; the table
 * lists every attempt (order, method, amount, status, refunded, when) and a
 * line per day sums what was paid. Operators and admins confirm a bank-QR
 * payment received («Подтвердить получение») and refund a paid order, fully
 * or partly («Вернуть», an amount in roubles or empty for all that is
 * left); both go to POST /api/payments/confirm | /refund, which only record
 * the decision (the payments module settles it), so the list is reloaded a
 * moment later. A {"type":"payment"} frame reloads it too.
 *
 * Exports: render.
 * Thread: the page's main thread.
 */
import { get, send } from '../api.js';
import { h, message, replace } from '../dom.js';
import { current, pickers } from '../filters.js';
import { dateTime, money, num } from '../fmt.js';
import { buildHash, go, parseHash } from '../hash.js';
import * as live from '../live.js';
import { T } from '../texts.js';

const P = T.payments;

function actions(p, canAct, note) {
    if (!canAct) return null;
    if (p.method === 'bank_qr' && (p.status === 'created' || p.status === 'pending') && !p.confirmed_by) {
        return h('button', { type: 'button', class: 'small', 'data-action': 'confirm',
            on: { click: () => act('confirm', { posting: p.posting }, note) } }, P.confirm);
    }
    if (p.paid && p.status === 'succeeded' && p.refunded_kop < p.amount_kop) {
        const amount = h('input', { type: 'number', min: '1', step: '0.01', class: 'amount', 'aria-label': P.amount,
            placeholder: P.amount_ph });
        return h('span', { class: 'refund' }, amount, ' ',
            h('button', { type: 'button', class: 'small', 'data-action': 'refund', on: { click: () => {
                const rub = amount.value.trim();
                const body = { posting: p.posting };
                if (rub) body.amount_kop = Math.round(Number(rub.replace(',', '.')) * 100);
                act('refund', body, note);
            } } }, P.refund));
    }
    return null;
}

async function act(what, body, note) {
    try {
        const r = await send('POST', `/api/payments/${what}`, body);
        replace(note, what === 'refund' ? P.refund_done(body.posting, money(r.amount_kop)) : P.confirm_done(body.posting));
        setTimeout(() => go(parseHash().path, parseHash().query), 2500);
    } catch (e) {
        replace(note, message('error', e.message, e.field ? ` (${T.common.field(e.field)})` : ''));
    }
}

export async function render(root, params) {
    const f = current(params.query);
    const canAct = params.me.role === 'operator' || params.me.role === 'admin';
    const note = h('p', { class: 'pay-note', 'aria-live': 'polite' });
    const body = h('div', { 'aria-busy': 'true' }, message('info', T.common.loading));
    root.appendChild(h('div', { class: 'page-head' }, h('h1', null, P.title)));
    root.appendChild(pickers({ group: false }));
    root.appendChild(note);
    root.appendChild(body);
    const data = await get('/api/payments', { from: f.from, to: f.to, zone: f.zone }, params.signal);
    const rows = data.payments || [];
    const days = data.days || [];
    replace(body,
        h('section', { class: 'panel' }, h('h2', null, P.days),
            days.length
                ? h('table', { class: 'data', id: 'pay-days' },
                    h('thead', null, h('tr', null, P.day_cols.map((c, i) => h('th', { scope: 'col', class: i ? 'n' : null }, c)))),
                    h('tbody', null, days.map((d) => h('tr', null, h('th', { scope: 'row' }, d.day),
                        h('td', { class: 'n' }, num(d.count)), h('td', { class: 'n' }, money(d.amount_kop))))))
                : h('p', null, P.none)),
        h('section', { class: 'panel' }, h('h2', null, P.list),
            h('div', { class: 'table-wrap' },
                h('table', { class: 'data', id: 'payments' },
                    h('thead', null, h('tr', null, P.cols.map((c) => h('th', { scope: 'col' }, c)))),
                    h('tbody', null, rows.length ? rows.map((p) => h('tr', { 'data-attempt': p.id, 'data-status': p.status },
                        h('th', { scope: 'row' }, h('a', { href: buildHash(['orders', String(p.posting)]) }, p.posting)),
                        h('td', null, P.methods[p.method] || p.method),
                        h('td', { class: 'n' }, money(p.amount_kop)),
                        h('td', { class: 'status' }, P.statuses[p.status] || p.status),
                        h('td', { class: 'n' }, p.refunded_kop ? money(p.refunded_kop) : T.common.none),
                        h('td', null, dateTime(p.paid_at || p.created_at)),
                        h('td', null, actions(p, canAct, note))))
                        : h('tr', null, h('td', { colspan: String(P.cols.length) }, P.none)))))));
    body.setAttribute('aria-busy', 'false');
    return live.subscribe('payment', () => setTimeout(() => go(parseHash().path, parseHash().query), 500));
}
