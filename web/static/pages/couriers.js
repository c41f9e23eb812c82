/* pages/couriers.js — «Курьеры»: the live courier map, load, tracks and
 * manual assignment.
 *
 * Purpose: a Leaflet map (vendor/leaflet, tiles from PLUS7_MAP_TILES; the
 * zones, markers and pins are vectors, so the map still works when tiles
 * cannot load) with the delivery zones, the couriers as circle markers
 * coloured by state (free, en route, stale, off) and the day's deliveries
 * as small pins; beside it the couriers' load for the day (done, failed,
 * left, km, shift time). Every {"type":"courier"} frame of the websocket
 * moves the courier's marker and updates its row at once. Choosing a
 * courier draws their track for the day. Operators and admins assign the
 * day's unassigned deliveries (one or many) to a courier.
 *
 * Data: GET /api/couriers/zones, /api/couriers/live, /api/couriers?from=D,
 * /api/couriers/deliveries?from=D, /api/couriers/{id}/track?from=D; POST
 * /api/couriers/assign. Everything from the API reaches the page as text
 * (dom.js); popups and tooltips are elements built the same way.
 *
 * Exports: render.
 * Thread: the page's main thread.
 */
import * as L from '../vendor/leaflet/leaflet-src.esm.js';
import { get, send } from '../api.js';
import { h, message, replace } from '../dom.js';
import { dateTime, dur, isDate, mskToday, num } from '../fmt.js';
import { buildHash, go, parseHash } from '../hash.js';
import * as live from '../live.js';
import { T } from '../texts.js';

const C = T.couriers;
const COLORS = { free: '#2e9d5b', en_route: '#0b5cad', stale: '#d9822b', off: '#8a929c' };
const STAGE_COLORS = { new: '#c23b3b', assigned: '#7b4fb8', picked: '#0b5cad', en_route: '#0b5cad',
    delivered: '#2e9d5b', failed: '#d9822b' };
const CENTER = [48.0159, 37.8028];   // Donetsk

/* The page's own day (hash parameter `day`): the shared period's from/to
 * mean a range, a map shows one day. */
function dayOf(query) {
    const d = query.get('day');
    return isDate(d) ? d : mskToday();
}

function stateBadge(state) {
    return h('span', { class: `badge state-${state}`, 'data-state': state }, C.states[state] || state);
}

/* Leaflet puts attribution in as HTML: give it only escaped text. */
function escapeText(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export async function render(root, params) {
    const { query, me, signal } = params;
    const day = dayOf(query);
    const canAssign = me.role === 'operator' || me.role === 'admin';

    const dayInput = h('input', { type: 'date', id: 'courier-day', 'aria-label': C.day, props: { value: day } });
    dayInput.addEventListener('change', () => {
        const next = new URLSearchParams(parseHash().query);
        if (isDate(dayInput.value)) next.set('day', dayInput.value); else next.delete('day');
        go(['couriers'], next);
    });
    const mapEl = h('div', { id: 'courier-map', class: 'courier-map', role: 'region', 'aria-label': C.map });
    const listBody = h('tbody');
    const assignBox = h('section', { class: 'assign', 'aria-label': C.assign.title });
    const trackNote = h('p', { class: 'track-note', 'aria-live': 'polite' });
    root.appendChild(h('div', { class: 'page couriers' },
        h('div', { class: 'page-head' }, h('h1', null, C.title), h('label', null, C.day, ' ', dayInput)),
        h('div', { class: 'courier-layout' },
            mapEl,
            h('div', { class: 'courier-side' },
                h('table', { class: 'data courier-list' },
                    h('caption', null, C.load),
                    h('thead', null, h('tr', null, C.cols.map((c) => h('th', { scope: 'col' }, c)))),
                    listBody),
                trackNote,
                canAssign ? assignBox : null))));

    const [zones, liveList, load, deliveries] = await Promise.all([
        get('/api/couriers/zones', undefined, signal),
        get('/api/couriers/live', undefined, signal),
        get('/api/couriers', { from: day }, signal),
        get('/api/couriers/deliveries', { from: day }, signal),
    ]);

    const map = L.map(mapEl, { center: CENTER, zoom: 12, preferCanvas: false });
    if (zones.tiles) {
        L.tileLayer(zones.tiles, { maxZoom: 19, attribution: escapeText(zones.attribution || '') }).addTo(map);
    }
    const bounds = [];
    for (const z of zones.zones || []) {
        if (!Array.isArray(z.polygon) || z.polygon.length < 3) continue;
        L.polygon(z.polygon, { color: '#5a6472', weight: 1, fillOpacity: 0.05 })
            .bindTooltip(h('span', null, z.name)).addTo(map);
        bounds.push(...z.polygon);
    }

    // the day's deliveries as pins
    const pins = L.layerGroup().addTo(map);
    const pinPoints = [];
    for (const d of deliveries.deliveries || []) {
        if (typeof d.lat !== 'number' || typeof d.lon !== 'number') continue;
        if (d.stage !== 'delivered' && d.stage !== 'failed') pinPoints.push([d.lat, d.lon]);
        const pop = h('div', { class: 'pin-popup' },
            h('a', { href: buildHash(['orders', String(d.posting)]) }, d.posting),
            h('div', null, d.address || ''),
            h('div', null, C.slot, ': ', d.slot || ''),
            h('div', null, C.stages[d.stage] || d.stage),
            d.proof ? h('img', { class: 'proof', src: `/api/deliveries/${Number(d.id)}/proof`, alt: C.proof }) : null);
        L.circleMarker([d.lat, d.lon], { radius: 5, color: STAGE_COLORS[d.stage] || '#444', weight: 2, fillOpacity: 0.6 })
            .bindPopup(pop).addTo(pins);
    }

    // couriers: a marker and a row each, both kept current by the websocket
    const markers = new Map(), rows = new Map(), loadById = new Map((load.couriers || []).map((c) => [c.id, c]));
    let track = null;

    function markerFor(c) {
        let m = markers.get(c.id);
        const color = COLORS[c.state] || COLORS.off;
        if (typeof c.lat !== 'number' || typeof c.lon !== 'number') return;
        if (!m) {
            m = L.circleMarker([c.lat, c.lon], { radius: 9, color, weight: 3, fillColor: color, fillOpacity: 0.8 })
                .bindTooltip(h('span', null, c.name)).addTo(map);
            m.on('click', () => showTrack(c.id));
            markers.set(c.id, m);
        } else {
            m.setLatLng([c.lat, c.lon]);
            m.setStyle({ color, fillColor: color });
        }
        const el = m.getElement && m.getElement();
        if (el) { el.setAttribute('data-courier', String(c.id)); el.setAttribute('data-state', c.state); }
    }

    function rowFor(c) {
        const l = loadById.get(c.id) || {};
        const tr = h('tr', { 'data-courier': String(c.id) },
            h('th', { scope: 'row' }, h('button', { type: 'button', class: 'link', on: { click: () => showTrack(c.id) } }, c.name)),
            h('td', null, stateBadge(c.state)),
            h('td', null, num(l.done ?? 0)),
            h('td', null, num(l.failed ?? 0)),
            h('td', null, num(c.left ?? l.left ?? 0)),
            h('td', null, num(l.km ?? 0)),
            h('td', { title: C.last_point(dateTime(c.at)) }, dur(l.shift_s ?? 0)));
        const old = rows.get(c.id);
        if (old) old.replaceWith(tr); else listBody.appendChild(tr);
        rows.set(c.id, tr);
    }

    async function showTrack(id) {
        try {
            const t = await get(`/api/couriers/${Number(id)}/track`, { from: day }, signal);
            if (track) track.remove();
            const pts = (t.points || []).map((p) => [p[0], p[1]]);
            track = L.polyline(pts, { color: '#0b5cad', weight: 3, opacity: 0.7 }).addTo(map);
            if (pts.length > 1) map.fitBounds(track.getBounds(), { maxZoom: 16 });
            replace(trackNote, C.track(pts.length));
        } catch (e) {
            if (e.name !== 'AbortError') replace(trackNote, message('error', e.message));
        }
    }

    const known = new Map();
    for (const c of liveList.couriers || []) {
        known.set(c.id, c);
        markerFor(c);
        rowFor(c);
        if (typeof c.lat === 'number') bounds.push([c.lat, c.lon]);
    }
    for (const l of load.couriers || []) if (!known.has(l.id)) rowFor({ ...l, left: l.left });
    if (!rows.size) listBody.appendChild(h('tr', null, h('td', { colspan: String(C.cols.length) }, C.empty)));
    // where the couriers are (else the zones)
    const located = [...known.values()].filter((c) => c.state !== 'off' && typeof c.lat === 'number')
        .map((c) => [c.lat, c.lon]).concat(pinPoints);
    if (located.length) map.fitBounds(located, { maxZoom: 14, padding: [40, 40] });
    else if (bounds.length) map.fitBounds(bounds, { maxZoom: 13 });

    const unsubscribe = live.subscribe('courier', (f) => {
        const c = f.courier;
        if (!c || typeof c.id !== 'number') return;
        known.set(c.id, c);
        markerFor(c);
        rowFor(c);
    });

    if (canAssign) renderAssign(assignBox, deliveries.deliveries || [], liveList.couriers || []);

    return () => {
        unsubscribe();
        map.remove();
    };
}

/* The unassigned deliveries of the day with checkboxes, a courier and «Назначить». */
function renderAssign(box, deliveries, couriers) {
    const open = deliveries.filter((d) => d.stage === 'new' || d.stage === 'assigned');
    const onShift = couriers.filter((c) => c.state !== 'off');
    if (!open.length) {
        replace(box, h('h2', null, C.assign.title), h('p', null, deliveries.length ? C.assign.none : C.assign.empty));
        return;
    }
    const checks = open.map((d) => h('input', { type: 'checkbox', value: String(d.id), 'aria-label': d.posting }));
    const select = h('select', { 'aria-label': C.assign.courier },
        onShift.map((c) => h('option', { value: String(c.id) }, `${c.name} (${C.states[c.state] || c.state})`)));
    const note = h('p', { class: 'assign-note', 'aria-live': 'polite' });
    const button = h('button', { type: 'submit', disabled: onShift.length ? null : true }, C.assign.submit);
    const form = h('form', { class: 'assign-form' },
        h('ul', { class: 'assign-list' }, open.map((d, i) => h('li', null, h('label', null, checks[i], ' ',
            d.posting, ' · ', d.slot || '', ' · ', C.stages[d.stage] || d.stage)))),
        h('label', null, C.assign.courier, ' ', select), ' ', button, note);
    form.addEventListener('submit', async (e) => {
        e.preventDefault();
        const ids = checks.filter((c) => c.checked).map((c) => Number(c.value));
        if (!ids.length) { replace(note, C.assign.pick); return; }
        button.disabled = true;
        try {
            const r = await send('POST', '/api/couriers/assign', { deliveries: ids, courier: Number(select.value) });
            replace(note, C.assign.done(r.assigned, r.refused));
            setTimeout(() => go(parseHash().path, parseHash().query), 800);
        } catch (err) {
            replace(note, message('error', err.message));
        } finally {
            button.disabled = false;
        }
    });
    replace(box, h('h2', null, C.assign.title), onShift.length ? null : h('p', null, C.assign.nobody), form);
}
