/* pages/order.js — one order: its card and whole timeline
 * (GET /api/orders/{posting}): statuses with source and time,
 * notifications with channel and outcome, reminders, the form's answers,
 * mass messages, payments, courier events; oldest first. Read-only. An
 * {"type":"order"} frame for this posting reloads it.
 *
 * Exports: render.
 * Thread: the page's main thread.
 */
import { get } from '../api.js';
import { h, message, replace } from '../dom.js';
import { filterQuery } from '../filters.js';
import { dateTime, money } from '../fmt.js';
import { buildHash } from '../hash.js';
import * as live from '../live.js';
import { T } from '../texts.js';

const O = T.order;

const orNone = (v) => (v === null || v === undefined || v === '' ? T.common.none : String(v));
const word = (dict, v) => (v ? (v in dict ? dict[v] : String(v)) : null);

function card(o) {
    const F = O.fields;
    const rows = [
        ['status', F.status, orNone(o.status_text || T.statuses[o.status] || o.status)],
        ['zone', F.zone, orNone(o.zone_name)],
        ['client', F.client, orNone(o.client_name)],
        ['phone', F.phone, orNone(o.phone)],
        ['address', F.address, orNone(o.address)],
        ['slot', F.slot, orNone(o.slot)],
        ['price', F.price, typeof o.price_kop === 'number' ? money(o.price_kop) : T.common.none],
        ['paid', F.paid, o.paid ? O.paid_yes : O.paid_no],
        ['created', F.created, dateTime(o.created_at)],
    ];
    return h('dl', { class: 'card order-card' },
        rows.map(([key, dt, dd]) => h('div', { class: 'field', 'data-field': key }, h('dt', null, dt), h('dd', null, dd))));
}

function timeline(items) {
    if (!items.length) return message('info', O.empty);
    return h('ol', { class: 'timeline' }, items.map((e) => {
        const meta = [word(O.sources, e.source), word(O.channels, e.channel), word(O.outcomes, e.outcome)].filter(Boolean);
        return h('li', { class: `tl tl-${/^[a-z]+$/.test(e.kind) ? e.kind : 'other'}`, 'data-kind': String(e.kind || '') },
            h('time', { datetime: String(e.at || '') }, dateTime(e.at)),
            h('span', { class: 'tl-kind' }, word(O.kinds, e.kind) || T.common.none),
            h('span', { class: 'tl-text' }, orNone(e.text)),
            meta.length ? h('span', { class: 'tl-meta' }, meta.join(' · ')) : null);
    }));
}

/* Contract (every page): render(root, params) fills root; returns cleanup. */
export function render(root, params) {
    const posting = params.path[1];
    const body = h('div', { class: 'order-body', 'aria-busy': 'true' }, message('info', T.common.loading));
    const note = h('div', { class: 'order-note', role: 'status' });
    root.append(
        h('p', null, h('a', { href: buildHash(['orders'], filterQuery()), class: 'back' }, O.back)),
        h('div', { class: 'page-head' }, h('h1', null, O.title(posting))),
        note, body);

    const load = async () => {
        try {
            const r = await get(`/api/orders/${encodeURIComponent(posting)}`, null, params.signal);
            replace(body, card(r.order || {}),
                h('section', { class: 'panel' }, h('h2', null, O.timeline),
                    timeline(Array.isArray(r.timeline) ? r.timeline : [])));
        } catch (e) {
            if (e.name === 'AbortError') return;
            replace(body, message('error', e.status === 404 ? O.not_found : e.message));
        }
        body.setAttribute('aria-busy', 'false');
    };
    const offLive = live.subscribe('order', (m) => {
        if (!m.order || m.order.posting !== posting) return;
        replace(note, message('info', O.live, ': ', orNone(m.order.status_text || T.statuses[m.order.status])));
        load();
    });
    let wasOpen = document.documentElement.dataset.live === 'open';
    const offState = live.onState((s) => {
        if (s === 'open' && !wasOpen) load();
        wasOpen = s === 'open';
    });
    load();
    return () => { offLive(); offState(); };
}
