/* app.js — the dashboard shell: session, navigation and the hash router.
 *
 * Purpose: asks /api/me whether a session is open (the sign-in page
 * otherwise), builds the navigation from the one page table below, and on
 * every hash change renders the page the hash names into <main>. A page is
 * an ES module exporting render(root, params) which may return (or resolve
 * to) a cleanup function, called before the next page renders; params are
 * {path, query, me, signal} (signal aborts when the page is left). Sections
 * whose module does not exist yet are greyed «скоро» labels, never links.
 * Opens the live websocket (live.js) while signed in.
 *
 * Exports: nothing (the entry module of index.html).
 * Thread: the page's main thread.
 */
import { get, send, setCsrf } from './api.js';
import { clear, h, message, replace } from './dom.js';
import { filterQuery, forgetZones } from './filters.js';
import { buildHash, go, parseHash } from './hash.js';
import * as live from './live.js';
import { T } from './texts.js';

/* The page table: id (first hash segment), nav title, roles allowed (all
 * when absent), load (absent = not built yet), sub (the page for
 * #/id/{key}). */
const PAGES = [
    { id: 'summary', title: T.nav.summary, roles: ['manager', 'admin'], load: () => import('./pages/summary.js') },
    { id: 'orders', title: T.nav.orders, load: () => import('./pages/orders.js'), sub: () => import('./pages/order.js') },
    { id: 'couriers', title: T.nav.couriers },
    { id: 'tickets', title: T.nav.tickets },
    { id: 'payments', title: T.nav.payments },
    { id: 'settings', title: T.nav.settings },
];

const nav = document.getElementById('nav');
const sessionBox = document.getElementById('session');
const main = document.getElementById('main');

let me = null;             // {login, role, csrf} while signed in
let cleanup = null;        // the current page's cleanup
let aborter = null;        // aborts the current page's requests
let seq = 0;               // render generation: a slower older render never wins

function allowed(page) {
    return !page.roles || (me && page.roles.includes(me.role));
}

function homeId() {
    return allowed(PAGES[0]) ? PAGES[0].id : 'orders';
}

function renderNav(activeId) {
    const q = filterQuery();
    const items = PAGES.filter(allowed).map((p) => {
        if (!p.load)
            return h('li', null, h('span', { class: 'nav-soon', 'aria-disabled': 'true' }, p.title, ' ',
                h('small', null, T.nav.soon)));
        return h('li', null, h('a', { href: buildHash([p.id], q), 'aria-current': p.id === activeId ? 'page' : null }, p.title));
    });
    replace(nav, h('ul', { 'aria-label': T.nav.label }, items));
}

const liveDot = h('span', { class: 'live-dot live-closed', title: T.session.live_off });
live.onState((s) => {
    liveDot.className = `live-dot live-${s}`;
    liveDot.title = s === 'open' ? T.session.live_on : T.session.live_off;
    // a socket refused because the session ended: /api/me answers 401 and
    // api.js announces the sign-out (network errors are left to reconnect)
    if (s === 'closed' && me) get('/api/me').catch(() => {});
});

function renderSession() {
    if (!me) { clear(sessionBox); clear(nav); return; }
    replace(sessionBox, liveDot,
        h('span', { class: 'who' }, me.login, h('span', { class: 'role' }, ' · ', T.roles[me.role] || me.role)),
        h('button', { type: 'button', class: 'link', id: 'logout', on: { click: logout } }, T.session.logout));
}

async function logout() {
    try { await send('DELETE', '/api/session'); } catch (e) { if (e.status !== 401) console.error(e); }
    signedOut();
}

function signedIn(who) {
    me = who;
    setCsrf(who.csrf);
    live.start();
    renderSession();
    route();
}

function signedOut() {
    me = null;
    setCsrf('');
    live.stop();
    forgetZones();
    renderSession();
    route();
}

async function show(mod, title, params) {
    const mine = ++seq;
    if (cleanup) { try { cleanup(); } catch (e) { console.error(e); } }
    cleanup = null;
    if (aborter) aborter.abort();
    aborter = new AbortController();
    params.signal = aborter.signal;
    document.title = `${title} — ${T.app.title}`;
    replace(main, message('info', T.common.loading));
    try {
        const m = await mod;
        if (mine !== seq) return;
        clear(main);
        const c = await m.render(main, params);
        if (mine !== seq) { if (typeof c === 'function') c(); return; }
        cleanup = typeof c === 'function' ? c : null;
    } catch (e) {
        if (mine !== seq || (e && e.name === 'AbortError')) return;
        console.error(e);
        replace(main, message('error', T.common.error, ': ', e.message || String(e)));
    }
}

function route() {
    const { path, query } = parseHash();
    if (!me) {
        clear(nav);
        show(import('./pages/login.js'), T.login.title, { path, query, onSignedIn: signedIn });
        return;
    }
    if (path.length === 0) { go([homeId()], query); renderNav(homeId()); return; }
    const page = PAGES.find((p) => p.id === path[0]);
    renderNav(page && page.id);
    const title = page ? page.title : T.common.not_found;
    const params = { path, query, me };
    if (!page || !page.load || path.length > (page.sub ? 2 : 1)) {
        show(Promise.resolve({ render: (root) => { root.appendChild(message('error', T.common.not_found)); } }), title, params);
    } else if (!allowed(page)) {
        show(Promise.resolve({ render: (root) => { root.appendChild(message('error', T.common.forbidden)); } }), title, params);
    } else {
        show((path.length === 2 ? page.sub : page.load)(), title, params);
    }
}

window.addEventListener('hashchange', route);
window.addEventListener('plus7:signed-out', () => { if (me) signedOut(); });

async function boot() {
    document.title = T.app.title;
    try {
        signedIn(await get('/api/me'));
    } catch (e) {
        if (e.status !== 401) console.error(e);
        signedOut();
    }
}

boot();
