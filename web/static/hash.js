/* hash.js — the location hash as the dashboard's address:
 * "#/orders/12345678-0001-1?from=2026-12-01&zone=2".
 *
 * Purpose: one parser and one builder, so that every page and the shared
 * filters read and write the same shape: path segments (URL-decoded) and a
 * query (URLSearchParams).
 *
 * Exports: parseHash, buildHash, go.
 * Thread: the page's main thread.
 */

/* -> {path: ['orders', '12345678-0001-1'], query: URLSearchParams} */
export function parseHash(hash = location.hash) {
    const s = hash.replace(/^#\/?/, '');
    const qi = s.indexOf('?');
    const p = qi < 0 ? s : s.slice(0, qi);
    const path = p.split('/').filter(Boolean).map((x) => {
        try { return decodeURIComponent(x); } catch { return x; }
    });
    return { path, query: new URLSearchParams(qi < 0 ? '' : s.slice(qi + 1)) };
}

/* path segments + query object/URLSearchParams -> "#/a/b?x=1" (empty
 * values left out). */
export function buildHash(path, query) {
    const q = new URLSearchParams();
    const entries = query instanceof URLSearchParams ? query.entries() : Object.entries(query || {});
    for (const [k, v] of entries)
        if (v !== null && v !== undefined && v !== '') q.set(k, String(v));
    const qs = q.toString();
    return `#/${path.map(encodeURIComponent).join('/')}${qs ? `?${qs}` : ''}`;
}

/* Navigates to path + query (a hashchange follows unless nothing changed). */
export function go(path, query) {
    const next = buildHash(path, query);
    if (next !== location.hash) location.hash = next;
}
