// SPDX-License-Identifier: MIT
// charts.js -- recent history kept in memory (last 30 min) and Chart.js line charts of it.

import { h } from './dom.js';
import { fmtClock } from './format.js';

export const HISTORY_MS = 30 * 60 * 1000;
const MAX_POINTS = 2000;
const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#d97706', '#7c3aed', '#0891b2', '#db2777',
  '#65a30d', '#475569', '#ea580c'];

// Named time series: add(t, {name: value}) appends a point to each; older than 30 min goes.
export class History {
  constructor() { this.series = new Map(); }

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
      while (drop < pts.length && (now - pts[drop].x > HISTORY_MS || pts.length - drop > MAX_POINTS)) drop++;
      if (drop) pts.splice(0, drop);
      if (!pts.length) this.series.delete(name);
    }
  }
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
