/* chart.js — the dashboard's charts, drawn by uPlot (web/package.json,
 * copied into vendor/ by ./dev) on a canvas.
 *
 * Purpose: two shapes the pages need. lineChart: series over the points of
 * a period (x is the point's index; its label comes from the API's "t").
 * barChart: grouped bars over categories (uPlot's bars path; each series
 * is spread onto its own slot of a category so that bars stand side by
 * side). Both follow their container's width (ResizeObserver); destroy()
 * frees them. Labels and values reach the canvas as text only.
 *
 * Exports: COLORS, lineChart, barChart.
 * Thread: the page's main thread.
 */
import uPlot from './vendor/uplot/uPlot.esm.js';
import { num } from './fmt.js';

export const COLORS = ['#0b5cad', '#2e9d5b', '#d9822b', '#c23b3b', '#7b4fb8', '#1f9aa8'];

const HEIGHT = 240;
const AXIS = { stroke: '#4a5360', grid: { stroke: '#e3e6ea', width: 1 }, ticks: { stroke: '#e3e6ea', width: 1 } };

function widthOf(el) {
    return Math.max(240, Math.floor(el.clientWidth || 600));
}

function mount(el, opts, data) {
    const u = new uPlot({ width: widthOf(el), height: HEIGHT, ...opts }, data, el);
    const ro = new ResizeObserver(() => {
        const w = widthOf(el);
        if (w !== u.width) u.setSize({ width: w, height: HEIGHT });
    });
    ro.observe(el);
    return { destroy() { ro.disconnect(); u.destroy(); } };
}

/* Whole steps for counts: an axis of parcels never reads 0,2. */
const COUNT_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1e3, 2e3, 2500, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6];
const yAxis = (fmt, counts) => ({
    ...AXIS, size: 56, values: (u, splits) => splits.map((v) => fmt(v)), ...(counts ? { incrs: COUNT_INCRS } : {}),
});
const zeroBased = (u, min, max) => [0, max > 0 ? max * 1.1 : 1];

/* lineChart(el, {labels, xLabel, series: [{label, values}], fmtX, fmtY,
 * counts}) — labels: one per point; values: numbers or null per point;
 * xLabel names the x value in the legend; counts: whole-number ticks. */
export function lineChart(el, { labels, xLabel, series, fmtX, fmtY = num, counts = true }) {
    const xs = labels.map((_, i) => i);
    const lab = (i) => (Number.isInteger(i) && i >= 0 && i < labels.length ? fmtX(labels[i]) : '');
    return mount(el, {
        scales: { x: { time: false, range: (u, min, max) => [min - 0.5, max + 0.5] }, y: { range: zeroBased } },
        axes: [
            { ...AXIS, space: 56, incrs: [1, 2, 3, 4, 6, 7, 12, 14, 24, 48, 72, 168, 336], values: (u, splits) => splits.map(lab) },
            yAxis(fmtY, counts),
        ],
        series: [
            { label: xLabel, value: (u, i) => (i === null ? '' : lab(i)) },
            ...series.map((s, k) => ({
                label: s.label, stroke: COLORS[k % COLORS.length], width: 2,
                points: { show: labels.length <= 62, size: 5 },
                value: (u, v) => (v === null || v === undefined ? '—' : fmtY(v)),
            })),
        ],
    }, [xs, ...series.map((s) => s.values)]);
}

/* barChart(el, {categories, series: [{label, values}], fmtY, counts}) —
 * values: one per category (null = no bar); counts: whole-number ticks. */
export function barChart(el, { categories, series, fmtY = num, counts = true }) {
    const S = series.length, W = S === 1 ? 1 : S + 1;
    const n = Math.max(1, categories.length * W - (W - S));
    const xs = Array.from({ length: n }, (_, i) => i);
    const cols = series.map((s, k) => xs.map((x) => (x % W === k ? s.values[Math.floor(x / W)] ?? null : null)));
    const centers = categories.map((_, c) => c * W + (S - 1) / 2);
    const bars = uPlot.paths.bars({ size: [0.9, 64] });
    return mount(el, {
        legend: { show: S > 1, live: false },
        cursor: { show: false },
        scales: { x: { time: false, range: (u, min, max) => [min - 0.6, max + 0.6] }, y: { range: zeroBased } },
        axes: [
            { ...AXIS, grid: { show: false }, splits: () => centers, values: (u, splits) => splits.map((_, i) => categories[i] ?? '') },
            yAxis(fmtY, counts),
        ],
        series: [
            {},
            ...series.map((s, k) => ({
                label: s.label, paths: bars, points: { show: false },
                stroke: COLORS[k % COLORS.length], fill: COLORS[k % COLORS.length], width: 1,
            })),
        ],
    }, [xs, ...cols]);
}
