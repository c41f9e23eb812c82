/* static.test.mjs — rules of web/static that a reader should not have to
 * trust (meson suite "browser"; node's test runner, TAP output).
 *
 * Purpose: the dashboard's own modules never parse a string as HTML or
 * code (no innerHTML, outerHTML, insertAdjacentHTML, document.write, eval,
 * new Function, string timers); Russian words only in texts.js, the
 * dashboard's catalogue; index.html has no inline script, style or
 * event-handler attribute (the CSP would refuse them anyway); every module
 * starts with its header comment; every page the table in app.js loads
 * exists. vendor/ (third-party, copied by ./dev) is not ours and is left
 * out.
 * Thread: node's one thread.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const root = path.join(process.env.PLUS7_SRC || path.join(import.meta.dirname, '..', '..'), 'web', 'static');

function modules(dir = root) {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return e.name === 'vendor' ? [] : modules(p);
        return e.name.endsWith('.js') ? [p] : [];
    });
}

const rel = (p) => path.relative(root, p);

test('no module parses a string as HTML or code', () => {
    const banned = /\b(innerHTML|outerHTML|insertAdjacentHTML|document\.write(ln)?|eval\s*\(|new\s+Function\b|set(Timeout|Interval)\s*\(\s*['"`])/;
    const files = modules();
    assert.ok(files.length >= 10, `found ${files.length} modules`);
    for (const f of files) {
        const lines = fs.readFileSync(f, 'utf8').split('\n');
        lines.forEach((l, i) => {
            const code = l.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, '').replace(/\/\*.*?\*\//g, '');
            assert.ok(!banned.test(code), `${rel(f)}:${i + 1}: ${l.trim()}`);
        });
    }
});

test('Russian text lives in texts.js only (comments aside)', () => {
    for (const f of modules().filter((x) => rel(x) !== 'texts.js')) {
        let inBlock = false;
        fs.readFileSync(f, 'utf8').split('\n').forEach((l, i) => {
            let code = '';
            for (let k = 0; k < l.length; k++) {
                if (inBlock) { if (l.startsWith('*/', k)) { inBlock = false; k++; } continue; }
                if (l.startsWith('/*', k)) { inBlock = true; k++; continue; }
                if (l.startsWith('//', k)) break;
                code += l[k];
            }
            assert.doesNotMatch(code, /[А-Яа-яЁё]/, `${rel(f)}:${i + 1}: ${l.trim()}`);
        });
    }
});

test('index.html has no inline script, style or handler', () => {
    const html = fs.readFileSync(path.join(root, 'index.html'), 'utf8');
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
        assert.match(m[1], /\bsrc=/, 'a script without src');
        assert.equal(m[2].trim(), '', 'a script with a body');
    }
    assert.doesNotMatch(html, /<style\b/i);
    assert.doesNotMatch(html, /\sstyle\s*=/i);
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i);
    assert.doesNotMatch(html, /javascript:/i);
});

test('every module starts with its header comment', () => {
    for (const f of modules()) {
        const head = fs.readFileSync(f, 'utf8').split('\n')[0];
        const name = rel(f).split(path.sep).join('/');
        assert.ok(head.startsWith(`/* ${name} — `), `${name}: first line is "${head}"`);
    }
});

test('every page the table in app.js loads exists and exports render', () => {
    const app = fs.readFileSync(path.join(root, 'app.js'), 'utf8');
    const pages = [...app.matchAll(/import\('\.\/(pages\/[a-z_]+\.js)'\)/g)].map((m) => m[1]);
    assert.ok(pages.length >= 4, `pages: ${pages.join(', ')}`);
    for (const p of pages) {
        const src = fs.readFileSync(path.join(root, p), 'utf8');
        assert.match(src, /export (async )?function render\(root, params\)/, p);
    }
});
