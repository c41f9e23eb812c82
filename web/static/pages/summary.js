/* pages/summary.js — «Сводка»: the analytics of a period and zone.
 *
 * Purpose: KPI cards (GET /api/analytics/summary), four charts (orders and
 * notifications per day/hour from GET /api/analytics/series; delivery,
 * pickup and processing times avg/p50/p90; waiting parcels by age), the
 * per-zone table, courier load (GET /api/analytics/couriers: deliveries,
 * failures, per day and hour, shift time, km), and CSV/XLSX export links
 * for the chosen period and zone.
 * Every number comes from the API; nothing is computed here but units.
 *
 * Exports: render.
 * Thread: the page's main thread.
 */
import { apiUrl, get } from '../api.js';
import { barChart, lineChart } from '../chart.js';
import { h, message, replace } from '../dom.js';
import { current, pickers } from '../filters.js';
import { dayLabel, dur, money, num, pct } from '../fmt.js';
import { T } from '../texts.js';

const S = T.summary;

function card(key, label, value, detail) {
    return h('div', { class: 'kpi', 'data-kpi': key },
        h('div', { class: 'kpi-label' }, label),
        h('div', { class: 'kpi-value' }, value),
        detail ? h('div', { class: 'kpi-detail' }, detail) : null);
}

function timeCard(key, t) {
    t = t || {};
    return card(key, S.kpi[key], dur(t.p50_s), `${S.p90} ${dur(t.p90_s)} · ${S.avg} ${dur(t.avg_s)}`);
}

function kpis(k) {
    const w = k.waiting || {}, n = k.notifications || {}, p = k.paid || {};
    return h('section', { class: 'kpis', 'aria-label': S.title },
        card('created', S.kpi.created, num(k.created)),
        card('delivered', S.kpi.delivered, num(k.delivered)),
        card('cancelled', S.kpi.cancelled, num(k.cancelled)),
        card('returned', S.kpi.returned, num(k.returned)),
        timeCard('delivery_time', k.delivery_time),
        timeCard('pickup_time', k.pickup_time),
        timeCard('processing_time', k.processing_time),
        card('on_time_rate', S.kpi.on_time_rate, pct(k.on_time_rate), S.on_time_hint),
        card('first_attempt_rate', S.kpi.first_attempt_rate, pct(k.first_attempt_rate)),
        card('waiting', S.kpi.waiting, num(w.count), S.waiting_age(dur(w.age_avg_s))),
        card('notifications', S.kpi.notifications, num((n.telegram || 0) + (n.sms || 0)),
            S.notif_detail(num(n.telegram), num(n.sms), num(n.failed))),
        card('sms_count', S.kpi.sms_count, num(k.sms_count)),
        card('broadcasts', S.kpi.broadcasts, num(k.broadcasts), S.broadcast_detail(num(k.broadcast_messages))),
        card('paid', S.kpi.paid, money(p.amount_kop), S.paid_detail(num(p.count))));
}

function zonesTable(rows) {
    return h('section', { class: 'panel' },
        h('h2', null, S.zones),
        h('div', { class: 'table-wrap' },
            h('table', { class: 'data', id: 'zones-table' },
                h('thead', null, h('tr', null, S.zone_cols.map((c, i) => h('th', { scope: 'col', class: i ? 'n' : null }, c)))),
                h('tbody', null, rows.length ? rows.map((z) => h('tr', { 'data-zone': String(z.id) },
                    h('th', { scope: 'row' }, z.name),
                    h('td', { class: 'n' }, num(z.created)),
                    h('td', { class: 'n' }, num(z.delivered)),
                    h('td', { class: 'n' }, num(z.cancelled)),
                    h('td', { class: 'n' }, num(z.returned)),
                    h('td', { class: 'n' }, pct(z.on_time_rate)),
                    h('td', { class: 'n' }, dur(z.delivery_time_p50_s))))
                    : h('tr', null, h('td', { colspan: String(S.zone_cols.length) }, T.common.empty))))));
}

const dec = (v) => (typeof v === 'number' ? num(Math.round(v * 10) / 10) : T.common.none);

function couriersTable(rows) {
    if (!rows.length) return h('section', { class: 'panel', id: 'couriers' }, h('h2', null, S.couriers), message('info', S.couriers_empty));
    return h('section', { class: 'panel', id: 'couriers' },
        h('h2', null, S.couriers),
        h('div', { class: 'table-wrap' },
            h('table', { class: 'data' },
                h('thead', null, h('tr', null, S.courier_cols.map((c, i) => h('th', { scope: 'col', class: i ? 'n' : null }, c)))),
                h('tbody', null, rows.map((c) => h('tr', { 'data-courier': String(c.id) },
                    h('th', { scope: 'row' }, c.name),
                    h('td', { class: 'n' }, num(c.deliveries)),
                    h('td', { class: 'n' }, num(c.failed)),
                    h('td', { class: 'n' }, dec(c.per_day)),
                    h('td', { class: 'n' }, dec(c.per_hour)),
                    h('td', { class: 'n' }, dur(c.shift_s)),
                    h('td', { class: 'n' }, dec(c.km))))))));
}

/* A chart panel; draw(el) returns the chart (or null when there is nothing
 * to draw, then the panel says so). */
function panel(id, title, draw, charts) {
    const box = h('div', { class: 'chart', id });
    const p = h('section', { class: 'panel chart-panel' }, h('h2', null, title), box);
    requestAnimationFrame(() => {
        if (!box.isConnected) return;
        const c = draw(box);
        if (c) charts.push(c); else box.appendChild(message('info', S.no_data));
    });
    return p;
}

const hours = (s) => (typeof s === 'number' ? Math.round((s / 3600) * 10) / 10 : null);

function charts(sum, series, list) {
    const pts = Array.isArray(series.points) ? series.points : [];
    const labels = pts.map((p) => p.t);
    const fmtX = dayLabel;
    const col = (k) => pts.map((p) => (typeof p[k] === 'number' ? p[k] : null));
    const k = sum.kpi || {};
    const buckets = (k.waiting && Array.isArray(k.waiting.buckets)) ? k.waiting.buckets : [];
    const t = (x) => x || {};
    return h('div', { class: 'charts' },
        panel('chart-orders', S.charts.orders, (el) => pts.length && lineChart(el, {
            labels, fmtX, xLabel: S.x_label, series: ['created', 'delivered', 'cancelled', 'returned'].map((s) => ({ label: S.series[s], values: col(s) })),
        }), list),
        panel('chart-times', S.charts.times, (el) => barChart(el, {
            categories: [S.cats.delivery, S.cats.pickup, S.cats.processing],
            series: [['avg_s', S.avg], ['p50_s', S.p50], ['p90_s', S.p90]].map(([key, label]) => ({
                label, values: [k.delivery_time, k.pickup_time, k.processing_time].map((x) => hours(t(x)[key])),
            })),
            fmtY: (v) => num(v), counts: false,
        }), list),
        panel('chart-notifications', S.charts.notifications, (el) => pts.length && lineChart(el, {
            labels, fmtX, xLabel: S.x_label, series: ['telegram', 'sms', 'failed'].map((s) => ({ label: S.series[s], values: col(s) })),
        }), list),
        panel('chart-waiting', S.charts.waiting, (el) => buckets.length && barChart(el, {
            categories: buckets.map((b) => String(b.label)),
            series: [{ label: S.series.parcels, values: buckets.map((b) => (typeof b.count === 'number' ? b.count : null)) }],
        }), list));
}

function exportsBox(f) {
    const q = { from: f.from, to: f.to, zone: f.zone };
    return h('div', { class: 'exports', role: 'group', 'aria-label': S.exports },
        h('a', { class: 'button', id: 'export-csv', href: apiUrl('/api/export/orders.csv', q), download: '' }, S.export_csv),
        h('a', { class: 'button', id: 'export-xlsx', href: apiUrl('/api/export/orders.xlsx', q), download: '' }, S.export_xlsx));
}

/* Contract (every page): render(root, params) fills root; returns cleanup. */
export async function render(root, params) {
    const f = current(params.query);
    const body = h('div', { class: 'summary-body', 'aria-busy': 'true' }, message('info', T.common.loading));
    root.appendChild(h('div', { class: 'page-head' }, h('h1', null, S.title), exportsBox(f)));
    root.appendChild(pickers({ group: true }));
    root.appendChild(body);
    const list = [];
    const cleanup = () => { for (const c of list.splice(0)) c.destroy(); };
    const q = { from: f.from, to: f.to, zone: f.zone };
    try {
        const [sum, series, couriers] = await Promise.all([
            get('/api/analytics/summary', q, params.signal),
            get('/api/analytics/series', { ...q, group: f.group }, params.signal),
            get('/api/analytics/couriers', q, params.signal),
        ]);
        replace(body, kpis(sum.kpi || {}), charts(sum, series, list),
            zonesTable(Array.isArray(sum.zones) ? sum.zones : []),
            couriersTable(Array.isArray(couriers.couriers) ? couriers.couriers : []));
        body.setAttribute('aria-busy', 'false');
    } catch (e) {
        if (e.name === 'AbortError') return cleanup;
        replace(body, message('error', e.status === 403 ? T.common.forbidden : e.message,
            e.field ? ` (${T.common.field(e.field)})` : ''));
        body.setAttribute('aria-busy', 'false');
    }
    return cleanup;
}
