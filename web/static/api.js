/* api.js — the dashboard's one way to the JSON API under /api/.
 *
 * Purpose: fetch with the session cookie (same origin), the CSRF token in
 * X-CSRF-Token on every state-changing request, and one error shape: a
 * non-2xx answer throws ApiError carrying the HTTP status, the server's
 * human text ("error") and the bad parameter ("field") when it names one.
 * A 401 outside sign-in also fires the window event "plus7:signed-out" so
 * the shell can show the sign-in page.
 *
 * Exports: ApiError, setCsrf, apiUrl, get, send.
 * Thread: the page's main thread.
 */
import { T } from './texts.js';

let csrf = '';

export class ApiError extends Error {
    constructor(status, message, field, body) {
        super(message);
        this.name = 'ApiError';
        this.status = status;
        this.field = field || null;
        this.body = body || null;
    }
}

/* Remembers the session's CSRF token (from POST /api/session or /api/me). */
export function setCsrf(token) {
    csrf = typeof token === 'string' ? token : '';
}

/* path plus a query built from params; null, undefined and '' are left out. */
export function apiUrl(path, params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {}))
        if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
    const s = q.toString();
    return s ? `${path}?${s}` : path;
}

async function call(method, path, body, signal) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrf;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
        res = await fetch(path, {
            method, headers, signal, credentials: 'same-origin', cache: 'no-store',
            body: body === undefined ? undefined : JSON.stringify(body),
        });
    } catch (e) {
        if (e && e.name === 'AbortError') throw e;
        throw new ApiError(0, T.common.network);
    }
    let data = null;
    const type = res.headers.get('Content-Type') || '';
    if (res.status !== 204 && type.includes('json')) {
        try { data = await res.json(); } catch { data = null; }
    }
    if (!res.ok) {
        const msg = data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
        if (res.status === 401 && !(method === 'POST' && path === '/api/session'))
            window.dispatchEvent(new CustomEvent('plus7:signed-out'));
        throw new ApiError(res.status, msg, data && data.field, data);
    }
    return data;
}

/* GET path?params -> parsed JSON. signal: an AbortSignal or undefined. */
export function get(path, params, signal) {
    return call('GET', apiUrl(path, params), undefined, signal);
}

/* POST/PUT/PATCH/DELETE with an optional JSON body -> parsed JSON or null. */
export function send(method, path, body) {
    return call(method, path, body, undefined);
}
