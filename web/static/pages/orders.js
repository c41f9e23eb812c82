/* pages/orders.js — «Заказы»: search and list.
 *
 * Purpose: search by posting number, phone or name (q), filters by status
 * and by the shared period and zone, keyset paging with «Показать ещё»
 * (GET /api/orders?…&after=<next>; the page size is `limit` of the hash,
 * 1..200, default 50). While the page is open, an
 * {"type":"order"} frame from the websocket updates the status of a row
 * already shown; a change to an order not shown offers to reload the list.
 *
 * Exports: render.
 * Thread: the page's main thread.
 */
import { get } from '../api.js';
import { h, message, replace } from '../dom.js';
import { current, filterQuery, pickers } from '../filters.js';
import { dateTime } from '../fmt.js';
import { buildHash, go, parseHash } from '../hash.js';
import * as live from '../live.js';
import { STATUSES, T } from '../texts.js';

const O = T.orders;
const PAGE = 50;

function pageSize(query) {
    const n = Number(query.get('limit'));
    return Number.isInteger(n) && n >= 1 && n <= 200 ? n : PAGE;
}

function statusText(o) {
    return typeof o.status_text === 'string' && o.status_text ? o.status_text : (T.statuses[o.status] || o.status);
}

function row(o) {
    const c = O.cols;      // data-label: the column's name, shown before the value on phones
    return h('tr', { 'data-posting': o.posting },
        h('th', { scope: 'row', 'data-label': c[0] }, h('a', { href: buildHash(['orders', String(o.posting)], filterQuery()) }, o.posting)),
        h('td', { class: 'status', 'data-status': o.status, 'data-label': c[1] }, statusText(o)),
        h('td', { 'data-label': c[2] }, o.zone_name || T.common.none),
        h('td', { class: 'client', 'data-label': c[3] }, o.client_name || T.common.none),
        h('td', { class: 'phone', 'data-label': c[4] }, o.phone || T.common.none),
        h('td', { 'data-label': c[5] }, dateTime(o.created_at)),
        h('td', { 'data-label': c[6] }, o.paid ? O.paid : O.unpaid));
}

function searchForm(query) {
    const q = h('input', { type: 'search', id: 'q', name: 'q', placeholder: O.search_ph, maxlength: '200',
        'aria-label': O.search, props: { value: query.get('q') || '' } });
    const st = h('select', { id: 'status', name: 'status', 'aria-label': O.status },
        h('option', { value: '' }, O.all_statuses),
        STATUSES.map((s) => h('option', { value: s }, T.statuses[s])));
    st.value = STATUSES.includes(query.get('status')) ? query.get('status') : '';
    const submit = (e) => {
        e.preventDefault();
        const { path, query: cur } = parseHash();
        const next = new URLSearchParams(cur);
        for (const [k, v] of [['q', q.value.trim()], ['status', st.value]]) {
            if (v) next.set(k, v); else next.delete(k);
        }
        go(path, next);
    };
    st.addEventListener('change', submit);
    return h('form', { class: 'search', role: 'search', on: { submit } },
        q, st, h('button', { type: 'submit', class: 'primary' }, O.find));
}

/* Contract (every page): render(root, params) fills root; returns cleanup. */
export function render(root, params) {
    const f = current(params.query);
    const base = {
        q: params.query.get('q') || '', status: STATUSES.includes(params.query.get('status')) ? params.query.get('status') : '',
        zone: f.zone, from: f.from, to: f.to, limit: pageSize(params.query),
    };
    const tbody = h('tbody');
    const note = h('div', { class: 'orders-note', role: 'status' });
    const more = h('button', { type: 'button', id: 'more', class: 'more', hidden: true }, O.more);
    const count = h('p', { class: 'count' });
    const err = h('div');
    let next = null;
    let shown = 0;

    const load = async (reset) => {
        more.disabled = true;
        try {
            const r = await get('/api/orders', { ...base, after: reset ? null : next }, params.signal);
            const list = Array.isArray(r.orders) ? r.orders : [];
            if (reset) { replace(tbody); shown = 0; replace(note); }
            for (const o of list) tbody.appendChild(row(o));
            shown += list.length;
            if (!shown) tbody.appendChild(h('tr', null, h('td', { colspan: String(O.cols.length) }, T.common.empty)));
            next = typeof r.next === 'string' && r.next ? r.next : null;
            more.hidden = !next;
            count.textContent = O.shown(shown);
            replace(err);
        } catch (e) {
            if (e.name === 'AbortError') return;
            replace(err, message('error', e.message, e.field ? ` (${T.common.field(e.field)})` : ''));
        } finally {
            more.disabled = false;
        }
    };
    more.addEventListener('click', () => load(false));

    const offerReload = () => replace(note, h('span', null, O.fresh, ' '),
        h('button', { type: 'button', class: 'link', id: 'reload', on: { click: () => load(true) } }, O.refresh));

    const offLive = live.subscribe('order', (m) => {
        const o = m.order || {};
        const tr = [...tbody.rows].find((r) => r.dataset.posting === o.posting);
        if (!tr) { offerReload(); return; }
        const cell = tr.querySelector('td.status');
        cell.textContent = statusText(o);
        cell.dataset.status = String(o.status || '');
        tr.classList.remove('flash');
        void tr.offsetWidth;          // restart the highlight animation
        tr.classList.add('flash');
    });
    let wasOpen = document.documentElement.dataset.live === 'open';
    const offState = live.onState((s) => {
        if (s === 'open' && !wasOpen) offerReload();   // frames may have been missed meanwhile
        wasOpen = s === 'open';
    });

    root.append(
        h('div', { class: 'page-head' }, h('h1', null, O.title)),
        searchForm(params.query),
        pickers({ group: false }),
        note, err,
        h('div', { class: 'table-wrap' },
            h('table', { class: 'data cards', id: 'orders-table' },
                h('thead', null, h('tr', null, O.cols.map((c) => h('th', { scope: 'col' }, c)))),
                tbody)),
        h('div', { class: 'list-foot' }, count, more));
    load(true);
    return () => { offLive(); offState(); };
}
