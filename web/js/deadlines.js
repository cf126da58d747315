// SPDX-License-Identifier: MIT
// deadlines.js -- the WindowPoSt panel of the miner page: the strip of the proving period's 48
// deadlines (current one marked, faulty ones red, proven partitions filled in), the current
// window's countdown, the faults and recoveries, and the optional `proving check` result.
// Built from the record's `deadlines`, `currentDeadline`, `deadlineClose`/`deadlineLeftSeconds`,
// `nextDeadlineOpen`, `faultySectors`, `recoverySectors`, `faultyPower`, `faults`, `provingCheck`.

import { h, fill, setText } from './dom.js';
import { fmtDuration, fmtTime, fmtClock, fmtAgo } from './format.js';

export const DEADLINES = 48; // WPoStPeriodDeadlines: a proving period is 48 windows of 30 min
const FAULTS_SHOWN = 60;

const int = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

// The record's deadline entries by index; null when the record has none.
export function deadlinesByIndex(rec) {
  if (!Array.isArray(rec.deadlines)) return null;
  const by = new Map();
  rec.deadlines.forEach((d, i) => {
    if (!d || typeof d !== 'object') return;
    const idx = int(d.index) ?? i;
    if (idx >= 0 && idx < DEADLINES) by.set(idx, d);
  });
  return by;
}

// The current deadline's index: `currentDeadline`, else the entry marked `current`.
export function currentIndex(rec) {
  const c = int(rec.currentDeadline);
  if (c != null) return c;
  const d = Array.isArray(rec.deadlines) ? rec.deadlines.find((x) => x && x.current === true) : null;
  return d ? int(d.index) : null;
}

function cellTitle(idx, d, current) {
  if (!d) return `Deadline ${idx}: not in the record`;
  const parts = [`Deadline ${idx}${current ? ' (current)' : ''}`];
  if (int(d.open) != null) parts.push(`opens ${fmtTime(d.open)}`);
  parts.push(`${d.partitions ?? '?'} partitions, ${d.sectors ?? '?'} sectors`);
  parts.push(`${d.faults ?? '?'} faulty`);
  if (d.recoveries != null) parts.push(`${d.recoveries} recovering`);
  if (d.provenPartitions != null) parts.push(`${d.provenPartitions} partitions proven`);
  return parts.join(' · ');
}

// One cell of the strip. Classes: current, faulty (faults > 0), recovering, proven (every
// partition proven this period), idle (no partitions), unknown (not in the record).
function cell(idx, d, current) {
  const cls = [];
  if (current) cls.push('current');
  if (!d) cls.push('unknown');
  else {
    const parts = int(d.partitions) ?? 0;
    const proven = int(d.provenPartitions) ?? 0;
    if (Number(d.faults) > 0) cls.push('faulty');
    if (Number(d.recoveries) > 0) cls.push('recovering');
    if (parts === 0) cls.push('idle');
    else if (proven >= parts) cls.push('proven');
  }
  const parts = d ? int(d.partitions) ?? 0 : 0;
  const proven = d ? Math.min(int(d.provenPartitions) ?? 0, parts) : 0;
  return h('div.dl-cell', { class: cls.join(' '), title: cellTitle(idx, d, current),
    dataset: { index: String(idx), faults: String(d ? d.faults ?? '' : ''),
      partitions: String(d ? d.partitions ?? '' : ''), proven: String(d ? d.provenPartitions ?? '' : '') } },
  h('span.dl-index', idx),
  // proven partitions as a filled share of the cell's foot
  parts ? h('span.dl-proven', { style: `width:${((100 * proven) / parts).toFixed(0)}%` }) : null,
  d && Number(d.faults) > 0 ? h('span.dl-faults', d.faults) : null);
}

export class DeadlinePanel {
  constructor() {
    this.strip = h('div.dl-strip#dl-strip');
    this.info = h('div.dl-info#dl-info');
    this.faults = h('div.dl-faults-box#dl-faults');
    this.check = h('p.small#proving-check', { hidden: true });
    this.left = h('b.mono#dl-left', '—');
    this.el = h('section.panel#deadlines', { hidden: true },
      h('div.card-head', h('h2', 'WindowPoSt deadlines'), h('span.spacer'), this.info),
      this.strip,
      h('div.dl-legend.small.muted',
        h('span.dl-key.current'), 'current ', h('span.dl-key.proven'), 'all partitions proven ',
        h('span.dl-key.faulty'), 'faulty sectors ', h('span.dl-key.recovering'), 'recovering ',
        h('span.dl-key.idle'), 'no partitions'),
      this.faults, this.check);
    this.key = null;
    this.closeAt = null; // ms when the current window closes, for the local countdown
    this.leftSeen = null; // the deadlineLeftSeconds value closeAt was counted from
    this.leftCur = null;
  }

  // Draw again what changed; rec is the page's whole record, `recvAt` when it arrived.
  render(rec, recvAt) {
    const by = deadlinesByIndex(rec);
    const cur = currentIndex(rec);
    const has = by != null || cur != null || rec.faultySectors != null || rec.recoverySectors != null;
    this.el.hidden = !has;
    if (!has) return;

    const key = JSON.stringify([rec.deadlines, cur]);
    if (key !== this.key) {
      this.key = key;
      const cells = [];
      for (let i = 0; i < DEADLINES; i++) cells.push(cell(i, by && by.get(i), i === cur));
      fill(this.strip, cells);
      this.strip.dataset.current = cur == null ? '' : String(cur);
    }

    // The current window: closes at deadlineClose, else deadlineLeftSeconds after the upload.
    if (int(rec.deadlineClose) != null) this.closeAt = rec.deadlineClose;
    else if (int(rec.deadlineLeftSeconds) != null) {
      // counted from the upload that brought this value (its updatedTime; a later upload
      // without it does not restart the count)
      if (rec.deadlineLeftSeconds !== this.leftSeen || cur !== this.leftCur) {
        this.leftSeen = rec.deadlineLeftSeconds;
        this.leftCur = cur;
        this.closeAt = (typeof rec.updatedTime === 'number' ? rec.updatedTime : recvAt) + rec.deadlineLeftSeconds * 1000;
      }
    } else this.closeAt = null;
    fill(this.info,
      cur != null ? h('span', 'current ', h('b#dl-current', `#${cur}`)) : h('span.muted', 'current unknown'),
      this.closeAt != null ? h('span', ' · window closes in ', this.left) : null,
      int(rec.nextDeadlineOpen) != null
        ? h('span', ' · next opens ', h('b', { title: fmtTime(rec.nextDeadlineOpen) }, fmtClock(rec.nextDeadlineOpen))) : null);
    this.tick();

    const faults = Array.isArray(rec.faults) ? rec.faults : [];
    const shown = faults.slice(0, FAULTS_SHOWN).join(', ');
    const more = faults.length - Math.min(faults.length, FAULTS_SHOWN);
    fill(this.faults,
      h('dl.kv.dl-kv',
        h('dt', 'Faulty sectors'), h('dd#dl-faulty', { class: Number(rec.faultySectors) > 0 ? 'bad' : '' },
          rec.faultySectors ?? '—'),
        h('dt', 'Faulty power'), h('dd', rec.faultyPower ?? '—'),
        h('dt', 'Recovering'), h('dd#dl-recovering', { class: Number(rec.recoverySectors) > 0 ? 'warn' : '' },
          rec.recoverySectors ?? '—')),
      faults.length ? h('p.small#dl-fault-list', h('span.muted', 'Faulty sectors: '), h('span.mono', shown),
        more || rec.faultsTruncated ? h('span.muted', ` … (${more ? `${more} more` : 'more'} not shown)`) : null) : null);

    const pc = rec.provingCheck && typeof rec.provingCheck === 'object' ? rec.provingCheck : null;
    this.check.hidden = !pc;
    if (pc) {
      const bad = Array.isArray(pc.badSectors) ? pc.badSectors : [];
      const n = pc.bad ?? bad.length;
      fill(this.check, `Proving check of deadline ${pc.deadline ?? '?'}`,
        int(pc.opensAt) != null ? ` (opens ${fmtClock(pc.opensAt)})` : '',
        int(pc.checkedAt) != null ? `, checked ${fmtAgo(pc.checkedAt)}` : '', ': ',
        pc.error ? h('span.error', `failed: ${pc.error}`)
          : Number(n) > 0 ? h('span.error', `${n} bad sector${n > 1 ? 's' : ''}: ${bad.join(', ')}`,
            pc.badTruncated ? ' …' : '') : h('span.ok', 'no bad sectors'));
    }
  }

  // Once a second: the countdown of the current window.
  tick() {
    if (this.closeAt == null) return;
    const left = (this.closeAt - Date.now()) / 1000;
    setText(this.left, left > 0 ? fmtDuration(left) : 'now (waiting for the next update)');
  }
}
