// SPDX-License-Identifier: MIT
// miner.js -- one miner, live: subMinerInfo gives the record, each push is a merge patch applied
// to it; only the changed summary values and worker cards are redrawn. Charts of the values seen.

import { h, fill, setText, badge } from '../dom.js';
import { mergePatch } from '../mergepatch.js';
import { History, TimeChart } from '../charts.js';
import { parseFil, parseGoDuration, fmtDuration, fmtBytes, fmtMiB, fmtNum, fmtPercent, fmtTemp,
  fmtTime, fmtAgo, stateKind } from '../format.js';

const GROUPS = [
  ['Balances', ['minerBalance', 'Miner'], ['workerBalance', 'Worker'], ['postBalance', 'PoSt'],
    ['pledgeBalance', 'Pledge'], ['minerAvailable', 'Available'], ['preCommitWait', 'PreCommit wait'],
    ['commitWait', 'Commit wait']],
  ['Power', ['rawBytePower', 'Raw byte'], ['adjustedPower', 'Adjusted'], ['effectivePower', 'Effective'],
    ['expectBlock', 'Expected blocks'], ['totalMessages', 'Messages']],
  ['Sectors', ['totalSectors', 'Total'], ['effectiveSectors', 'Effective'], ['errorSectors', 'Error'],
    ['recoverySectors', 'Recovering'], ['deletedSectors', 'Deleted'], ['failSectors', 'Failed']],
  ['Sealing', ['preCommit1', 'PreCommit1'], ['preCommit2', 'PreCommit2'], ['waitSeed', 'WaitSeed'],
    ['committing', 'Committing'], ['finalizeSector', 'Finalize']],
];
const ALARM_FIELDS = new Set(['errorSectors', 'failSectors']);
const TASK_ORDER = ['AP', 'PC1', 'PC2', 'C1', 'C2', 'GET', 'FIN'];
const RESAMPLE_MS = 10000;

// Chart history per miner, kept for the whole visit (navigating away and back keeps it).
const histories = new Map();

export function mount(root, { front, params }) {
  const minerId = params[0] || '';
  if (!histories.has(minerId)) histories.set(minerId, new History());
  const hist = histories.get(minerId);

  let rec = null;
  let sub = null;
  let lastSample = 0;
  let lastRecv = 0;
  const cells = new Map(); // field -> <dd>
  const cards = new Map(); // host -> <article>

  const title = h('h1', 'Miner ', h('span.mono', minerId));
  const meta = h('span.muted.small#miner-meta', 'loading…');
  const errorBox = h('div');
  const summary = h('div.kpi-groups');
  const states = h('div.chips#sector-states');
  const recError = h('p.error.rec-error', { hidden: true }); // the collector's own failure report
  const workersBox = h('div.workers#workers');
  const workersHead = h('h2', 'Workers');

  const charts = [
    new TimeChart('Balances (FIL)', { pick: (n) => (n.startsWith('bal:') ? n.slice(4) : null) }),
    // Proving dwarfs the sealing states: its count is in the chips above the charts.
    new TimeChart('Sectors by state (except Proving)',
      { pick: (n) => (n.startsWith('sec:') && n !== 'sec:Proving' ? n.slice(4) : null) }),
    new TimeChart('Worker CPU load', { pick: (n) => (n.startsWith('load:') ? n.slice(5) : null) }),
    new TimeChart('Worker CPU temperature', { unit: '°', pick: (n) => (n.startsWith('temp:') ? n.slice(5) : null) }),
  ];
  const content = h('div#miner-content', { hidden: true },
    recError, summary, states,
    h('div.charts', charts.map((c) => c.el)),
    workersHead, workersBox);

  fill(root, h('div.page-head', h('a.back', { href: '#/' }, '← Miners'), title, h('span.spacer'), meta),
    errorBox, content);

  for (const [name, ...fields] of GROUPS) {
    summary.append(h('section.kpi-group', h('h3', name), h('dl.kv', fields.map(([f, label]) => {
      const dd = h('dd', { dataset: { field: f } }, '—');
      cells.set(f, dd);
      return [h('dt', label), dd];
    }))));
  }

  // ---- data in ----

  function onData(data) {
    rec = normalize(data);
    lastRecv = Date.now();
    fill(errorBox);
    content.hidden = false;
    renderSummary();
    cards.clear();
    fill(workersBox);
    for (const host of Object.keys(rec.workerInfo).sort()) renderWorker(host);
    renderWorkersHead();
    sample(true);
  }

  function onPush(body) {
    if (!rec) return; // no base yet: the subscription response brings the whole record
    const patch = body.workerInfo && Array.isArray(body.workerInfo) ? normalize(body) : body;
    rec = mergePatch(rec, patch);
    lastRecv = Date.now();
    if (!rec.workerInfo || typeof rec.workerInfo !== 'object') rec.workerInfo = {};
    renderSummary();
    if (patch.workerInfo && typeof patch.workerInfo === 'object') {
      for (const host of Object.keys(patch.workerInfo)) renderWorker(host);
      renderWorkersHead();
    }
    sample(true);
    root.dataset.pushes = String(Number(root.dataset.pushes || 0) + 1);
  }

  function onError(message) {
    content.hidden = true;
    meta.textContent = '';
    fill(errorBox, h('section.panel.error-panel#miner-error', h('h2', `Miner ${minerId} is not available`),
      h('p', message), h('p', h('a', { href: '#/' }, 'Back to the miners'), ' · ',
        h('a', { href: '#', onclick: (ev) => { ev.preventDefault(); subscribe(); } }, 'Try again'))));
  }

  function subscribe() {
    if (sub) sub.close();
    sub = front.subscribe('subMinerInfo', { minerId }, { onData, onPush, onError });
  }

  // ---- rendering ----

  function renderSummary() {
    for (const [f, dd] of cells) {
      const v = rec[f];
      setText(dd, v == null || v === '' ? '—' : typeof v === 'number' && /Power/.test(f) ? fmtBytes(v) : v);
      dd.classList.toggle('bad', ALARM_FIELDS.has(f) && Number(v) > 0);
    }
    const st = rec.sectorStates && typeof rec.sectorStates === 'object' ? Object.entries(rec.sectorStates) : [];
    const text = st.map(([s, n]) => `${s}:${n}`).join(',');
    if (states.dataset.text !== text) {
      states.dataset.text = text;
      fill(states, st.sort((a, b) => b[1] - a[1]).map(([s, n]) => h('span.chip', `${s} `, h('b', n))));
    }
    recError.hidden = !rec.error;
    setText(recError, rec.error ? `The miner's collector reports: ${rec.error}` : '');
    renderMeta();
  }

  function renderMeta() {
    if (!rec) return;
    const when = typeof rec.updatedTime === 'number' ? rec.updatedTime : Date.parse(rec.timestamp);
    setText(meta, Number.isFinite(when) ? `data of ${fmtTime(when)} · ${fmtAgo(when)}`
      : `live · last change received ${fmtAgo(lastRecv)}`);
  }

  function renderWorkersHead() {
    const ws = Object.values(rec.workerInfo);
    const online = ws.filter((w) => stateKind(w && w.netState) === 'ok').length;
    setText(workersHead, `Workers (${ws.length}, ${online} online)`);
  }

  function renderWorker(host) {
    const w = rec.workerInfo[host];
    const old = cards.get(host);
    if (!w) {
      if (old) old.remove();
      cards.delete(host);
      return;
    }
    const card = workerCard(host, w);
    if (old) old.replaceWith(card);
    else {
      // keep host order
      const after = [...cards.keys()].sort().find((k) => k > host);
      workersBox.insertBefore(card, after ? cards.get(after) : null);
    }
    cards.set(host, card);
  }

  // ---- history ----

  function sample(force) {
    const now = Date.now();
    if (!rec || (!force && now - lastSample < RESAMPLE_MS)) return;
    lastSample = now;
    const v = {};
    for (const [f, label] of [['minerBalance', 'miner'], ['workerBalance', 'worker'], ['minerAvailable', 'available']]) {
      const n = parseFil(rec[f]);
      if (n != null) v['bal:' + label] = n;
    }
    if (rec.sectorStates && typeof rec.sectorStates === 'object') {
      for (const [s, n] of Object.entries(rec.sectorStates)) v['sec:' + s] = Number(n);
    } else {
      for (const f of ['preCommit1', 'preCommit2', 'waitSeed', 'committing', 'errorSectors']) {
        if (rec[f] != null && rec[f] !== '') v['sec:' + f] = Number(rec[f]);
      }
    }
    for (const [host, w] of Object.entries(rec.workerInfo)) {
      if (!w) continue;
      if (w.cpuLoad != null) v['load:' + host] = Number(w.cpuLoad);
      if (w.cpuTemper != null && w.cpuTemper !== '') v['temp:' + host] = Number(w.cpuTemper);
    }
    hist.add(now, v);
    for (const c of charts) c.update(hist);
  }

  // Elapsed times of jobs tick up between pushes; charts get a point every 10 s.
  const ticker = setInterval(() => {
    const now = Date.now();
    for (const el of workersBox.querySelectorAll('[data-base]')) {
      const base = Number(el.dataset.base);
      setText(el, fmtDuration(base + (now - Number(el.dataset.at)) / 1000));
    }
    renderMeta();
    sample(false);
  }, 1000);

  subscribe();
  return {
    refresh() { /* the subscription is sent again on reconnect and brings the whole record */ },
    destroy() {
      clearInterval(ticker);
      if (sub) sub.close();
      for (const c of charts) c.destroy();
    },
  };
}

// workerInfo as an object keyed by host name (minerInfo gives an array).
function normalize(data) {
  const rec = data && typeof data === 'object' ? data : {};
  if (Array.isArray(rec.workerInfo)) {
    const o = {};
    for (const w of rec.workerInfo) if (w && w.hostName) o[w.hostName] = w;
    rec.workerInfo = o;
  } else if (!rec.workerInfo || typeof rec.workerInfo !== 'object') {
    rec.workerInfo = {};
  }
  return rec;
}

function taskRank(t) {
  const i = TASK_ORDER.indexOf(t);
  return i < 0 ? TASK_ORDER.length : i;
}

function jobsOf(queue, kind) {
  const out = [];
  if (!queue || typeof queue !== 'object') return out;
  for (const [task, jobs] of Object.entries(queue)) {
    if (!Array.isArray(jobs)) continue;
    for (const j of jobs) if (j && typeof j === 'object') out.push({ ...j, task: j.task || task, queueTask: task, kind });
  }
  return out;
}

function workerCard(host, w) {
  const jobs = [...jobsOf(w.currentQueue, 'running'), ...jobsOf(w.pendingQueue, 'waiting')];
  jobs.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'running' ? -1 : 1)
    || taskRank(a.queueTask) - taskRank(b.queueTask) || String(a.sector).localeCompare(String(b.sector), undefined, { numeric: true }));
  const now = Date.now();
  const types = Array.isArray(w.taskType) ? w.taskType : [];
  const running = jobs.filter((j) => j.kind === 'running').length;

  const head = h('div.card-head',
    h('h3', host),
    badge(w.netState || 'unknown', stateKind(w.netState) || 'warn'),
    w.enabled === false ? badge('disabled', 'bad') : w.enabled === true ? badge('enabled', 'ok') : null,
    w.taskState != null && w.taskState !== '' ? badge(`task state ${w.taskState}`, '') : null,
    h('span.spacer'),
    h('span.chips', types.map((t) => h('span.chip.task', t))));

  const memPct = typeof w.useMemory === 'number' && typeof w.totalMemory === 'number' && w.totalMemory > 0
    ? (100 * w.useMemory) / w.totalMemory : null;
  const hw = h('dl.kv.hw',
    h('dt', 'CPU temp'), h('dd', { class: Number(w.cpuTemper) >= 85 ? 'bad' : '' }, fmtTemp(w.cpuTemper)),
    h('dt', 'CPU load'), h('dd', fmtNum(w.cpuLoad, 2)),
    w.cpuUsage != null ? [h('dt', 'CPU busy'), h('dd', fmtPercent(w.cpuUsage))] : null,
    h('dt', 'Memory'), h('dd', bar(memPct, `${fmtMiB(w.useMemory)} / ${fmtMiB(w.totalMemory)}`)),
    h('dt', 'Disk'), h('dd', bar(typeof w.useDisk === 'number' ? w.useDisk : null, fmtPercent(w.useDisk))),
    h('dt', 'Disk IO'), h('dd', `R ${fmtBytes(w.diskR, '/s')} · W ${fmtBytes(w.diskW, '/s')}`),
    gpuRows(w));

  const nets = Array.isArray(w.netIO) ? w.netIO.filter((n) => n && n.name) : [];
  const netTable = nets.length ? h('table.net',
    h('thead', h('tr', h('th', 'Interface'), h('th', 'RX'), h('th', 'TX'), h('th', 'RX pkt/s'), h('th', 'TX pkt/s'))),
    h('tbody', nets.map((n) => h('tr', h('td', n.name), h('td', fmtBytes(n.rx, '/s')), h('td', fmtBytes(n.tx, '/s')),
      h('td', fmtNum(n.rxpck, 0)), h('td', fmtNum(n.txpck, 0)))))) : null;

  const jobTable = jobs.length ? h('table.jobs',
    h('thead', h('tr', h('th', 'Queue'), h('th', 'Task'), h('th', 'Sector'), h('th', 'Job'), h('th', 'State'), h('th.num', 'Elapsed'))),
    h('tbody', jobs.map((j) => {
      // Jobs carry their start (ms); lotus' printed elapsed time only when the start is unknown.
      const base = typeof j.start === 'number' ? Math.max(0, (now - j.start) / 1000) : parseGoDuration(j.time);
      return h('tr', { class: j.kind, dataset: { job: j.id || '', task: j.queueTask, queue: j.kind } },
        h('td', j.kind), h('td', h('span.chip.task', j.task)), h('td', j.sector ?? '—'),
        h('td.mono', String(j.id || '—').slice(0, 8)), h('td', badge(j.state || j.kind, stateKind(j.state))),
        base == null ? h('td.num', j.time || '—')
          : h('td.num.mono', { dataset: { base: String(base), at: String(now) },
            title: typeof j.start === 'number' ? `started ${new Date(j.start).toLocaleString()}` : `lotus: ${j.time}` },
            fmtDuration(base)));
    }))) : h('p.muted.small', 'No jobs.');

  return h('article.card.worker', { dataset: { host }, class: stateKind(w.netState) === 'ok' ? '' : 'off' },
    head,
    h('div.worker-body', h('div.worker-hw', hw, netTable), h('div.worker-jobs',
      h('h4', `Jobs: ${running} running, ${jobs.length - running} waiting`), jobTable)));
}

function gpuRows(w) {
  const rows = [];
  if (Array.isArray(w.gpuInfo)) {
    w.gpuInfo.forEach((g, i) => {
      if (!g || typeof g !== 'object') return;
      const name = g.name || g.model || `GPU ${i}`;
      const temp = g.temperature ?? g.temp ?? g.temper;
      const load = g.load ?? g.utilization ?? g.util;
      rows.push(h('dt', name), h('dd', [temp != null ? fmtTemp(temp) : null, load != null ? `${fmtPercent(load)} busy` : null]
        .filter(Boolean).join(' · ') || '—'));
    });
  } else if (w.gpuTemper != null || w.gpuLoad != null) {
    rows.push(h('dt', 'GPU'), h('dd', `${fmtTemp(w.gpuTemper)} · ${fmtPercent(w.gpuLoad)} busy`));
  }
  return rows;
}

function bar(pct, label) {
  if (pct == null || !Number.isFinite(pct)) return label;
  const p = Math.max(0, Math.min(100, pct));
  return h('span.bar', { class: p >= 90 ? 'bad' : p >= 75 ? 'warn' : '', title: `${p.toFixed(1)} %` },
    h('span.fill', { style: `width:${p.toFixed(1)}%` }), h('span.label', label));
}
