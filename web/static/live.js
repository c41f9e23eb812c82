/* live.js — the page's one websocket to /api/live.
 *
 * Purpose: connects while a session is open (start/stop), reconnects with
 * a backoff (1 s doubling to 30 s) after any close, parses each text frame
 * as JSON {"type": …} and hands it to the subscribers of that type. Frames
 * that are not JSON objects with a string "type" are dropped. The state
 * ("open" / "closed") is mirrored in <html data-live> and reported to
 * onState listeners, so a page can refetch what it may have missed while
 * the socket was down.
 *
 * Exports: start, stop, subscribe, onState.
 * Thread: the page's main thread (WebSocket callbacks run there too).
 */

const subs = new Map();          // type -> Set of handlers
const stateFns = new Set();
let ws = null;
let wanted = false;
let delay = 1000;
let timer = 0;

function setState(s) {
    document.documentElement.dataset.live = s;
    for (const fn of stateFns) fn(s);
}

function connect() {
    timer = 0;
    if (!wanted || ws) return;
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const sock = new WebSocket(`${proto}//${location.host}/api/live`);
    ws = sock;
    sock.addEventListener('open', () => { delay = 1000; setState('open'); });
    sock.addEventListener('message', (e) => {
        if (typeof e.data !== 'string') return;
        let m;
        try { m = JSON.parse(e.data); } catch { return; }
        if (!m || typeof m !== 'object' || typeof m.type !== 'string') return;
        for (const fn of subs.get(m.type) || []) {
            try { fn(m); } catch (err) { console.error('live handler', err); }
        }
    });
    sock.addEventListener('close', () => {
        if (ws === sock) ws = null;
        setState('closed');
        if (wanted && !timer) {
            timer = setTimeout(connect, delay);
            delay = Math.min(delay * 2, 30000);
        }
    });
}

/* Opens the socket (after sign-in); a second call does nothing. */
export function start() {
    wanted = true;
    if (!ws && !timer) connect();
}

/* Closes the socket and stops reconnecting (after sign-out). */
export function stop() {
    wanted = false;
    if (timer) clearTimeout(timer);
    timer = 0;
    if (ws) ws.close();
    ws = null;
    delay = 1000;
}

/* Calls fn(frame) for every frame {"type": type}; returns the unsubscribe. */
export function subscribe(type, fn) {
    if (!subs.has(type)) subs.set(type, new Set());
    subs.get(type).add(fn);
    return () => subs.get(type).delete(fn);
}

/* Calls fn("open" | "closed") on every change; returns the unsubscribe. */
export function onState(fn) {
    stateFns.add(fn);
    return () => stateFns.delete(fn);
}
