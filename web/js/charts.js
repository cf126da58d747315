// SPDX-License-Identifier: MIT
// charts.js -- chart history in memory (the picked range, loaded from the server's stored history
// on open, then the live pushes appended) and Chart.js line charts of it.

import { h } from './dom.js';
import { fmtClock } from './format.js';

export const HISTORY_MS = 60 * 60 * 1000;
const MAX_POINTS = 4000;
// The range picker's choices (docs/dashboard.md#charts): [label, ms].
export const RANGES = [['1h', 3600e3], ['24h', 86400e3], ['7d', 7 * 86400e3], ['90d', 90 * 86400e3]];
const POINTS_PER_RANGE = 300; // the step asked of the server: range / this
const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#d97706', '#7c3aed', '#0891b2', '#db2777',
  '#65a30d', '#475569', '#ea580c'];

// Named time series: add(t, {name: value}) appends a point to each; older than the window goes.
export class History {
  constructor(windowMs = HISTORY_MS) { this.series = new Map(); this.windowMs = windowMs; }

  // Stored points from the server (`series` of a history answer: {name: [[t, avg, min, max]]}),
  // renamed by rename(name) (null: left out); they replace what is kept of those series, and
  // live points newer than the last stored one stay after them.
  load(series, rename, windowMs) {
    if (windowMs) this.windowMs = windowMs;
    for (const [name, pts] of Object.entries(series || {})) {
      const key = rename(name);
      if (key == null || !Array.isArray(pts)) continue;
      const stored = pts.filter((p) => Array.isArray(p) && Number.isFinite(p[1])).map((p) => ({ x: p[0], y: p[1] }));
      const lastT = stored.length ? stored[stored.length - 1].x : -Infinity;
      const live = (this.series.get(key) || []).filter((p) => p.x > lastT);
      this.series.set(key, stored.concat(live));
    }
    this.trim(Date.now());
  }

  add(t, values) {
    for (const [name, y] of Object.entries(values)) {
      if (typeof y !== 'number' || !Number.isFinite(y)) continue;
      let pts = this.series.get(name);
      if (!pts) this.series.set(name, (pts = []));
      const last = pts[pts.length - 1];
      if (last && t - last.x < 250) { last.y = y; continue; } // coalesce bursts of pushes
      pts.push({ x: t, y });
    }
    this.trim(t);
  }

  trim(now) {
    for (const [name, pts] of this.series) {
      let drop = 0;
      while (drop < pts.length && (now - pts[drop].x > this.windowMs || pts.length - drop > MAX_POINTS)) drop++;
      if (drop) pts.splice(0, drop);
      if (!pts.length) this.series.delete(name);
    }
  }
}

// The stored history of a device ({device_id}) or miner ({minerId}) over the last `rangeMs`, about
// POINTS_PER_RANGE points (the /front request `history`): a Promise of its `series`.
export async function fetchHistory(front, owner, rangeMs) {
  const to = Date.now();
  const d = await front.request('history', { ...owner, from: Math.max(0, to - rangeMs),
    step: Math.floor(rangeMs / POINTS_PER_RANGE) });
  return d && d.series ? d.series : {};
}

// Buttons 1h / 24h / 7d / 90d; onPick(ms) when one is clicked. The element's dataset.range is the
// current label.
export function rangePicker(currentMs, onPick) {
  const el = h('div.range-picker', { role: 'group', 'aria-label': 'Chart range' });
  const paint = (ms) => {
    for (const b of el.children) b.classList.toggle('active', Number(b.dataset.ms) === ms);
    el.dataset.range = (RANGES.find(([, m]) => m === ms) || [''])[0];
  };
  for (const [label, ms] of RANGES) {
    const b = h('button.range', { type: 'button', dataset: { ms: String(ms) } }, label);
    b.addEventListener('click', () => { paint(ms); onPick(ms); });
    el.append(b);
  }
  paint(currentMs);
  return el;
}

export function chartsAvailable() { return typeof window.Chart === 'function'; }

// A line chart over time of some series of a History. `pick(name)` selects and relabels
// series: it returns the label to show, or null to leave the series out.
export class TimeChart {
  constructor(title, { unit = '', pick = (n) => n, stacked = false } = {}) {
    this.unit = unit;
    this.pick = pick;
    this.canvas = h('canvas');
    this.el = h('figure.chart', h('figcaption', title), h('div.chart-box', this.canvas));
    this.chart = null;
    if (!chartsAvailable()) {
      this.el.querySelector('.chart-box').replaceChildren(
        h('p.muted', 'Charts need Chart.js at /vendor/chart.js/ (Debian package libjs-chart.js).'));
      return;
    }
    this.chart = new window.Chart(this.canvas, {
      type: 'line',
      data: { datasets: [] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        spanGaps: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        elements: { point: { radius: 0, hitRadius: 6 }, line: { borderWidth: 2, stepped: true } },
        scales: {
          x: { type: 'linear', ticks: { maxTicksLimit: 6, callback: (v) => fmtClock(v) } },
          y: { stacked, beginAtZero: stacked, ticks: { maxTicksLimit: 5, callback: (v) => `${+v.toFixed(3)}${unit}` } },
        },
        plugins: {
          legend: { position: 'bottom', labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
          tooltip: { callbacks: { title: (items) => items.length ? fmtClock(items[0].parsed.x) : '' } },
        },
      },
    });
  }

  update(history) {
    if (!this.chart) return;
    const wanted = [];
    for (const [name, pts] of history.series) {
      const label = this.pick(name);
      if (label != null) wanted.push([name, label, pts]);
    }
    wanted.sort((a, b) => a[1].localeCompare(b[1]));
    const ds = this.chart.data.datasets;
    const same = ds.length === wanted.length && ds.every((d, i) => d.key === wanted[i][0]);
    if (!same) {
      this.chart.data.datasets = wanted.map(([key, label, pts], i) => ({
        key, label, data: pts.slice(), borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length] + '33', fill: false,
      }));
    } else {
      wanted.forEach(([, , pts], i) => { ds[i].data = pts.slice(); });
    }
    this.chart.update('none');
  }

  destroy() { if (this.chart) this.chart.destroy(); }
}
