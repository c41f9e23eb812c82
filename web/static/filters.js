/* filters.js — the period (from/to), zone and day/hour grouping that every
 * page shares, kept in the hash query so that a link or a reload keeps
 * them and every page of the shell sees the same choice.
 *
 * Purpose: current() reads and validates them (defaults: the last 30 days
 * ending today in Moscow, all zones, by day — the API's own defaults);
 * pickers() builds the form that changes them; zones() loads /api/zones
 * once per sign-in.
 *
 * Exports: FILTER_KEYS, current, filterQuery, pickers, zones, forgetZones.
 * Thread: the page's main thread.
 */
import { get } from './api.js';
import { h } from './dom.js';
import { addDays, isDate, mskToday } from './fmt.js';
import { go, parseHash } from './hash.js';
import { T } from './texts.js';

export const FILTER_KEYS = ['from', 'to', 'zone', 'group'];

let zonesPromise = null;

/* The zones list (cached until forgetZones). */
export function zones() {
    if (!zonesPromise) {
        zonesPromise = get('/api/zones').then((r) => (Array.isArray(r && r.zones) ? r.zones : []));
        zonesPromise.catch(() => { zonesPromise = null; });
    }
    return zonesPromise;
}

/* Drops the cached zones (at sign-out). */
export function forgetZones() {
    zonesPromise = null;
}

/* -> {from, to, zone, group}; zone is '' for all zones. Invalid values in
 * the hash fall back to the defaults. */
export function current(query = parseHash().query) {
    const today = mskToday();
    let to = query.get('to');
    if (!isDate(to)) to = today;
    let from = query.get('from');
    if (!isDate(from)) from = addDays(to, -29);
    const z = query.get('zone') || '';
    const zone = /^[1-9][0-9]{0,9}$/.test(z) ? z : '';
    const group = query.get('group') === 'hour' ? 'hour' : 'day';
    return { from, to, zone, group };
}

/* The filters as a query object (for links that keep them). */
export function filterQuery(f = current()) {
    return { from: f.from, to: f.to, zone: f.zone, group: f.group === 'hour' ? 'hour' : '' };
}

/* Sets some filters (others in the hash stay) and navigates. */
function apply(patch) {
    const { path, query } = parseHash();
    for (const [k, v] of Object.entries(patch)) {
        if (v === '' || v === null) query.delete(k); else query.set(k, v);
    }
    go(path, query);
}

/* The filter form. opts.group: show the day/hour choice. */
export function pickers(opts = {}) {
    const f = current();
    const from = h('input', { type: 'date', name: 'from', id: 'f-from', required: true, props: { value: f.from } });
    const to = h('input', { type: 'date', name: 'to', id: 'f-to', required: true, props: { value: f.to } });
    const zone = h('select', { name: 'zone', id: 'f-zone' }, h('option', { value: '' }, T.filters.all_zones));
    const hint = h('span', { class: 'filters-hint', role: 'status' });
    zones().then((list) => {
        for (const z of list) zone.appendChild(h('option', { value: String(z.id) }, z.name));
        zone.value = f.zone;
    }).catch((e) => { hint.textContent = e.message; });

    let group = null;
    const onChange = () => {
        if (!isDate(from.value) || !isDate(to.value)) return;
        if (from.value > to.value) { hint.textContent = T.filters.bad_range; return; }
        hint.textContent = '';
        const patch = { from: from.value, to: to.value, zone: zone.value };
        if (group) patch.group = group.value === 'hour' ? 'hour' : '';
        apply(patch);
    };
    from.addEventListener('change', onChange);
    to.addEventListener('change', onChange);
    zone.addEventListener('change', onChange);

    if (opts.group) {
        group = h('select', { name: 'group', id: 'f-group', on: { change: onChange } },
            h('option', { value: 'day' }, T.filters.day), h('option', { value: 'hour' }, T.filters.hour));
        group.value = f.group;
    }
    const preset = (days) => () => {
        const today = mskToday();
        apply({ from: addDays(today, 1 - days), to: today });
    };
    const field = (label, control) => control && h('label', { class: 'fld' }, h('span', null, label), control);
    return h('form', { class: 'filters', 'aria-label': T.filters.legend, on: { submit: (e) => e.preventDefault() } },
        field(T.filters.from, from), field(T.filters.to, to), field(T.filters.zone, zone),
        field(T.filters.group, group),
        h('span', { class: 'presets' },
            h('button', { type: 'button', class: 'link', on: { click: preset(7) } }, T.filters.last7),
            h('button', { type: 'button', class: 'link', on: { click: preset(30) } }, T.filters.last30)),
        hint);
}
