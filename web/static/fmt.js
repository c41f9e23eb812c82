/* fmt.js — numbers, durations, money, dates and times as a Russian reader
 * expects them; Moscow time for every date (the API's dates are Moscow
 * dates, its times RFC 3339 with an offset).
 *
 * Exports: num, pct, dur, money, dateTime, dayLabel, mskToday,
 * addDays, isDate.
 * Thread: the page's main thread.
 */
import { T } from './texts.js';

const TZ = 'Europe/Moscow';
const NUM = new Intl.NumberFormat('ru-RU');
const PCT = new Intl.NumberFormat('ru-RU', { style: 'percent', maximumFractionDigits: 1 });
const RUB = new Intl.NumberFormat('ru-RU', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const DT = new Intl.DateTimeFormat('ru-RU', {
    timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit',
});
const YMD = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' });

/* Integer or decimal with Russian grouping; null -> «—». */
export function num(n) {
    return typeof n === 'number' && Number.isFinite(n) ? NUM.format(n) : T.common.none;
}

/* A rate 0..1 as a percentage; null -> «—». */
export function pct(r) {
    return typeof r === 'number' && Number.isFinite(r) ? PCT.format(r) : T.common.none;
}

/* Seconds as «2 дн. 3 ч», «1 ч 25 мин», «12 мин», «40 с»; null -> «—». */
export function dur(s) {
    if (typeof s !== 'number' || !Number.isFinite(s)) return T.common.none;
    const u = T.units;
    s = Math.max(0, Math.round(s));
    const d = Math.floor(s / 86400), hh = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60);
    if (d > 0) return hh ? `${d} ${u.d} ${hh} ${u.h}` : `${d} ${u.d}`;
    if (hh > 0) return m ? `${hh} ${u.h} ${m} ${u.min}` : `${hh} ${u.h}`;
    if (m > 0) return `${m} ${u.min}`;
    return `${s} ${u.s}`;
}

/* Kopecks as «1 234,50 ₽». */
export function money(kop) {
    if (typeof kop !== 'number' || !Number.isFinite(kop)) return T.common.none;
    return `${RUB.format(kop / 100)} ${T.units.rub}`;
}

/* An RFC 3339 time as «07.12.2026, 14:03» in Moscow; bad input -> «—». */
export function dateTime(iso) {
    const t = typeof iso === 'string' ? Date.parse(iso) : NaN;
    return Number.isFinite(t) ? DT.format(t) : T.common.none;
}

/* "2026-12-01" -> «01.12»; "2026-12-01T14:00" -> «01.12 14:00». */
export function dayLabel(t) {
    const m = /^(\d{4})-(\d\d)-(\d\d)(?:T(\d\d:\d\d))?/.exec(String(t));
    if (!m) return String(t);
    return m[4] ? `${m[3]}.${m[2]} ${m[4]}` : `${m[3]}.${m[2]}`;
}

/* Today's date in Moscow, YYYY-MM-DD. */
export function mskToday() {
    return YMD.format(Date.now());
}

/* YYYY-MM-DD plus n days (calendar arithmetic, no time zone involved). */
export function addDays(ymd, n) {
    const [y, m, d] = ymd.split('-').map(Number);
    const t = new Date(Date.UTC(y, m - 1, d + n));
    return t.toISOString().slice(0, 10);
}

/* True for a real calendar date written YYYY-MM-DD. */
export function isDate(s) {
    if (typeof s !== 'string' || !/^\d{4}-\d\d-\d\d$/.test(s)) return false;
    return addDays(s, 0) === s;
}
