/* harness.mjs — the browser tests' world: a fresh PostgreSQL database, the
 * real plus7d (the ASan build meson hands over) and tgsim, on free ports of
 * the loopback, plus headless Debian chromium driven by playwright-core.
 *
 * Purpose: mirrors tests/e2e/e2e_harness.c from node. setUp() creates the
 * database browser_<pid> on the server of $PLUS7_DB (dropping stale ones of
 * dead runs), runs `plus7d migrate` and `plus7d seed`, starts tgsim on port
 * 0 (its "listening on" line names the port) and plus7d on a free port
 * with the logistics webhook on, then waits for /healthz. tearDown() stops
 * plus7d with SIGTERM and returns its exit status (a sanitizer report at
 * exit makes it non-zero), stops tgsim and drops the database. Children's
 * output goes to log files in a private directory whose tails are printed
 * as TAP comments when asked.
 *
 * Helpers: sql() (psql with variables, never string-built SQL), sqlUntil()
 * (polls for an asynchronous effect, bounded), plus7d() (runs a plus7d
 * subcommand with the test database), logistics() (a signed webhook
 * batch), tg() (tgsim's control API), texts() (the bot's catalogue from
 * actors/texts/*.def, so no button label is copied here).
 *
 * Binaries and paths come from meson through the environment: PLUS7D_BIN,
 * TGSIM_BIN, PLUS7_STATIC_DIR, PLUS7_SRC (the source root), SHOTS_DIR;
 * PLUS7_DB from ./dev test. chromium: $CHROMIUM or /usr/bin/chromium.
 *
 * Exports: env, setUp, tearDown, restartPlus7d, sql, sqlUntil, plus7d,
 * logistics, tg, texts, launchBrowser, logTails, sleep.
 * Thread: node's one thread (async).
 */
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

process.env.PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD = '1';
const { chromium } = await import('playwright-core');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const env = {
    plus7d: process.env.PLUS7D_BIN,
    tgsim: process.env.TGSIM_BIN,
    staticDir: process.env.PLUS7_STATIC_DIR,
    src: process.env.PLUS7_SRC,
    shots: process.env.SHOTS_DIR || path.join(os.tmpdir(), 'plus7-browser-shots'),
    chromium: process.env.CHROMIUM || '/usr/bin/chromium',
    adminDb: process.env.PLUS7_DB,
    token: '5000000000:browser-Token_x',
    logisticsSecret: 'browser-logistics-secret-0123456789abcdef',   // at least 32 characters
};

const state = {
    tmp: null, db: null, conninfo: null, psql: null,
    tgPid: null, tgBase: null, p7: null, p7Port: 0, p7Base: null, p7Exit: null,
};

function findPsql() {
    const dirs = fs.existsSync('/usr/lib/postgresql')
        ? fs.readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : [];
    for (const d of dirs) {
        const p = `/usr/lib/postgresql/${d}/bin/psql`;
        if (fs.existsSync(p)) return p;
    }
    return 'psql';
}

/* conninfo of $PLUS7_DB with another dbname (a later keyword wins in libpq). */
function withDb(conninfo, db) {
    return `${conninfo.replace(/(^|\s)dbname=('(?:[^'\\]|\\.)*'|\S+)/g, '')} dbname=${db}`;
}

/* Runs SQL on the test database (or `db`); vars become psql variables
 * used as :'name' (quoted by psql; variables are expanded only in SQL read
 * from standard input, so the text goes there). Returns the rows as arrays
 * of text. */
export function sql(text, vars = {}, db = state.conninfo) {
    const args = ['-X', '-q', '-tA', '-F', '\t', '-v', 'ON_ERROR_STOP=1', '-d', db];
    for (const [k, v] of Object.entries(vars)) args.push('-v', `${k}=${v}`);
    return new Promise((resolve, reject) => {
        const c = spawn(state.psql, args, {
            env: { ...process.env, PGOPTIONS: '-c client_min_messages=warning' }, stdio: ['pipe', 'pipe', 'pipe'],
        });
        let out = '', err = '';
        c.stdout.on('data', (d) => { out += d; });
        c.stderr.on('data', (d) => { err += d; });
        c.on('error', reject);
        c.on('close', (code) => {
            if (code !== 0) { reject(new Error(`psql: ${err || `exit ${code}`}`)); return; }
            resolve(out.split('\n').filter((l) => l.length).map((l) => l.split('\t')));
        });
        c.stdin.end(`${text};\n`);
    });
}

/* Polls `text` until its first column equals `want` (at most timeoutMs). */
export async function sqlUntil(text, want, vars = {}, timeoutMs = 30000) {
    const end = Date.now() + timeoutMs;
    let got;
    for (;;) {
        const rows = await sql(text, vars);
        got = rows.length ? rows[0][0] : null;
        if (got === String(want)) return got;
        if (Date.now() > end) throw new Error(`sqlUntil: ${text} gave ${got}, wanted ${want}`);
        await sleep(50);
    }
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.once('error', reject);
        s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    });
}

function childEnv(extra) {
    const e = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PLUS7_')) e[k] = v;
    return { ...e, ...extra };
}

function startChild(bin, args, log, extraEnv) {
    const fd = fs.openSync(log, 'a');
    const child = spawn(bin, args, { stdio: ['ignore', fd, fd], env: childEnv(extraEnv) });
    fs.closeSync(fd);
    child.exitInfo = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    return child;
}

async function waitFor(fn, what, timeoutMs = 60000) {
    const end = Date.now() + timeoutMs;
    for (;;) {
        const v = await fn();
        if (v) return v;
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await sleep(50);
    }
}

/* Runs `plus7d ARGS` on the test database; input goes to standard input.
 * Resolves to {code, stdout, stderr}. */
export function plus7d(args, input = '') {
    return new Promise((resolve) => {
        const c = spawn(env.plus7d, args, { env: childEnv({ PLUS7_DB: state.conninfo }), stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '', err = '';
        c.stdout.on('data', (d) => { out += d; });
        c.stderr.on('data', (d) => { err += d; });
        c.on('close', (code) => resolve({ code, stdout: out, stderr: err }));
        c.stdin.end(input);
    });
}

/* tgsim's control API: tg('POST', '/control/users', {...}) -> {status, body}. */
export async function tg(method, p, body) {
    const r = await fetch(state.tgBase + p, {
        method, headers: { 'Content-Type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
}

/* POSTs a signed logistics batch; resolves to {status, body}. */
export async function logistics(events) {
    const raw = JSON.stringify({ events });
    const sig = createHmac('sha256', env.logisticsSecret).update(raw).digest('hex');
    const r = await fetch(`${state.p7Base}/api/logistics/events`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Plus7-Signature': `sha256=${sig}` }, body: raw,
    });
    return { status: r.status, body: await r.json().catch(() => null) };
}

/* The bot's texts: {T_BTN_DASHBOARD: '🖥 Войти в панель', ...} from the .def files. */
export function texts() {
    const dir = path.join(env.src, 'actors', 'texts');
    const out = {};
    for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.def'))) {
        const src = fs.readFileSync(path.join(dir, f), 'utf8');
        for (const m of src.matchAll(/X\(\s*(T_[A-Z0-9_]+)\s*,\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)/g))
            out[m[1]] = [...m[2].matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((s) => JSON.parse(`"${s[1]}"`)).join('');
    }
    return out;
}

/* The last n lines of every child log, as TAP comments. */
export function logTails(n = 15) {
    if (!state.tmp) return;
    for (const f of fs.readdirSync(state.tmp)) {
        const lines = fs.readFileSync(path.join(state.tmp, f), 'utf8').trimEnd().split('\n').slice(-n);
        console.log(`# --- ${f}`);
        for (const l of lines) console.log(`#   ${l}`);
    }
}

async function dropStale() {
    const rows = await sql("SELECT datname FROM pg_database WHERE datname ~ '^browser_[0-9]+$'", {}, state.adminConn);
    for (const [name] of rows) {
        const pid = Number(name.slice(8));
        let alive = true;
        try { process.kill(pid, 0); } catch { alive = false; }
        if (!alive || pid === process.pid)
            await sql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`, {}, state.adminConn);
    }
}

/* A test run that dies leaves no process behind. */
process.on('exit', () => {
    for (const c of [state.p7, state.tg])
        if (c && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

/* Starts plus7d serve on state.p7Port and waits for /healthz 200. */
async function startPlus7d() {
    state.p7 = startChild(env.plus7d, ['serve'], path.join(state.tmp, 'plus7d.log'), {
        PLUS7_DB: state.conninfo, PLUS7_LISTEN: `127.0.0.1:${state.p7Port}`, PLUS7_THREADS: '2',
        PLUS7_TG_TOKEN: env.token, PLUS7_TG_API: state.tgBase, PLUS7_TG_MODE: 'polling',
        PLUS7_LOGISTICS_SECRET: env.logisticsSecret, PLUS7_PUBLIC_URL: state.p7Base,
        PLUS7_STATIC_DIR: env.staticDir, PLUS7_LOG_LEVEL: 'info',
    });
    let died = false;
    state.p7.exitInfo.then(() => { died = true; });
    await waitFor(async () => {
        if (died) throw new Error('plus7d exited during start-up');
        try { return (await fetch(`${state.p7Base}/healthz`)).status === 200; } catch { return false; }
    }, 'plus7d /healthz');
}

/* SIGTERM to plus7d, then the same plus7d again on the same port and
 * database. Resolves to the stopped one's exit {code, signal}. */
export async function restartPlus7d() {
    state.p7.kill('SIGTERM');
    const exit = await state.p7.exitInfo;
    await startPlus7d();
    return exit;
}

/* Creates the world; resolves to {base} (plus7d's http://127.0.0.1:PORT). */
export async function setUp() {
    for (const k of ['plus7d', 'tgsim', 'staticDir', 'src', 'adminDb'])
        if (!env[k]) throw new Error(`missing environment for ${k} (run through meson: ./dev test browser)`);
    state.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'plus7-browser-'));
    state.psql = findPsql();
    state.adminConn = withDb(env.adminDb, 'postgres');
    await dropStale();
    state.db = `browser_${process.pid}`;
    await sql(`CREATE DATABASE ${state.db}`, {}, state.adminConn);
    state.conninfo = withDb(env.adminDb, state.db);
    for (const cmd of [['migrate'], ['seed']]) {
        const r = await plus7d(cmd);
        if (r.code !== 0) throw new Error(`plus7d ${cmd[0]} failed (${r.code}): ${r.stderr}`);
    }

    const tgLog = path.join(state.tmp, 'tgsim.log');
    state.tg = startChild(env.tgsim, ['--listen', '127.0.0.1:0', '--token', env.token], tgLog, {});
    state.tgBase = await waitFor(() => {
        const m = /listening on (http:\/\/[0-9.]+:\d+)/.exec(fs.existsSync(tgLog) ? fs.readFileSync(tgLog, 'utf8') : '');
        return m && m[1];
    }, 'tgsim to listen');

    state.p7Port = await freePort();
    state.p7Base = `http://127.0.0.1:${state.p7Port}`;
    await startPlus7d();
    fs.mkdirSync(env.shots, { recursive: true });
    return { base: state.p7Base };
}

/* Stops everything; resolves to plus7d's exit {code, signal} (null when it
 * was not running). */
export async function tearDown() {
    if (state.down) return state.down;
    state.down = tearDownOnce();
    return state.down;
}

async function tearDownOnce() {
    let exit = null;
    if (state.p7 && state.p7.exitCode === null && state.p7.signalCode === null) {
        state.p7.kill('SIGTERM');
        const t = setTimeout(() => state.p7.kill('SIGKILL'), 30000);
        exit = await state.p7.exitInfo;
        clearTimeout(t);
    } else if (state.p7) {
        exit = await state.p7.exitInfo;
    }
    if (state.tg && state.tg.exitCode === null) { state.tg.kill('SIGTERM'); await state.tg.exitInfo; }
    if (state.db && !process.env.BROWSER_KEEP_DB)
        await sql(`DROP DATABASE IF EXISTS ${state.db} WITH (FORCE)`, {}, state.adminConn).catch(() => {});
    return exit;
}

/* Headless Debian chromium (no browser download ever happens). */
export function launchBrowser() {
    return chromium.launch({
        executablePath: env.chromium, headless: true,
        // no background connections: the machine's network is closed and
        // the page under test is on the loopback
        args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--disable-quic', '--lang=ru',
            '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
}
