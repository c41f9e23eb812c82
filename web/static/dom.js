/* dom.js — the only way the dashboard builds DOM.
 *
 * Purpose: elements are made with document.createElement, text goes in
 * through text nodes (textContent), attributes through setAttribute after a
 * check; there is no innerHTML, insertAdjacentHTML or document.write in the
 * dashboard, so a value from the API is always shown as text, whatever it
 * holds ("<img src=x onerror=alert(1)>" included).
 *
 * Exports: h, clear, replace, message.
 * Thread: the page's main thread.
 */

const SAFE_URL = /^(#|\/(?!\/)|\?|https?:)/;

/* h(tag, props, ...children) -> Element. props: null or an object whose
 * keys are attribute names, plus `on` ({event: handler}) and `props`
 * (DOM properties such as value or checked). Attributes named on* and
 * "style" are refused (CSP forbids them anyway); href/src must be a
 * same-site path, a hash, or http(s). Children: strings and numbers become
 * text nodes, null/undefined/false are skipped, arrays are flattened. */
export function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
        if (v === null || v === undefined || v === false) continue;
        if (k === 'on') {
            for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
        } else if (k === 'props') {
            Object.assign(el, v);
        } else {
            if (/^on/i.test(k) || k === 'style') throw new Error(`dom: attribute ${k} refused`);
            const s = v === true ? '' : String(v);
            if ((k === 'href' || k === 'src' || k === 'action') && !SAFE_URL.test(s))
                throw new Error(`dom: unsafe ${k}`);
            el.setAttribute(k, s);
        }
    }
    append(el, children);
    return el;
}

function append(el, children) {
    for (const c of children) {
        if (c === null || c === undefined || c === false) continue;
        if (Array.isArray(c)) append(el, c);
        else if (c instanceof Node) el.appendChild(c);
        else el.appendChild(document.createTextNode(String(c)));
    }
}

/* Removes every child of el; returns el. */
export function clear(el) {
    while (el.firstChild) el.removeChild(el.firstChild);
    return el;
}

/* Replaces the children of el with the given ones; returns el. */
export function replace(el, ...children) {
    clear(el);
    append(el, children);
    return el;
}

/* A status line: kind 'error' renders role=alert, 'info' role=status. */
export function message(kind, ...children) {
    return h('p', { class: `msg msg-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}
