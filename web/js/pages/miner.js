// SPDX-License-Identifier: MIT
// miner.js -- one miner, live: subMinerInfo gives the record, each push is a merge patch applied
// to it; only the changed summary values and worker cards are redrawn. Charts load the miner's
// stored history for the picked range (1h, 24h, 7d, 90d) on open, then append the live values.

import { h, fill, setText, badge } from '../dom.js';
import { mergePatch } from '../mergepatch.js';
import { History, TimeChart, HISTORY_MS, fetchHistory, rangePicker } from '../charts.js';
import { DeadlinePanel } from '../deadlines.js';
import { parseFil, parseGoDuration, fmtDuration, fmtBytes, fmtMiB, fmtNum, fmtPercent, fmtTemp,
  fmtTime, fmtAgo, stateKind } from '../format.js';

// [field, label]: the value is rec[field], shown as it is, unless VIEWS has a view for it.
const GROUPS = [
  ['Balances', ['minerBalance', 'Miner'], ['workerBalance', 'Worker'], ['postBalance', 'PoSt'],
    ['pledgeBalance', 'Pledge'], ['minerAvailable', 'Available'], ['preCommitDeposit', 'PreCommit deposit']],
  ['Power', ['rawBytePower', 'Raw byte'], ['adjustedPower', 'Adjusted'], ['effectivePower', 'Effective'],
    ['faultyPower', 'Faulty'], ['expectBlock', 'Expected blocks']],
  ['Sectors', ['totalSectors', 'Total'], ['effectiveSectors', 'Effective'], ['errorSectors', 'Error'],
    ['faultySectors', 'Faulty'], ['recoverySectors', 'Recovering'], ['deletedSectors', 'Deleted'],
    ['failSectors', 'Failed']],
  ['Sealing', ['preCommit1', 'PreCommit1'], ['preCommit2', 'PreCommit2'], ['preCommitWait', 'PreCommit wait'],
    ['waitSeed', 'WaitSeed'], ['committing', 'Committing'], ['commitWait', 'Commit wait'],
    ['finalizeSector', 'Finalize']],
  ['Chain', ['totalMessages', 'Messages pending'], ['chainSync', 'Chain sync'], ['dealCount', 'Deals'],
    ['ownerAddress', 'Owner'], ['workerAddress', 'Worker addr'], ['controlAddresses', 'Control']],
];
const ALARM_FIELDS = new Set(['errorSectors', 'failSectors', 'faultySectors']);

// Fields shown other than as they are: (rec) -> [text, class, title] (text null: '—').
const VIEWS = {
  // pending messages of the miner's addresses, or why the count is unknown
  totalMessages: (r) => (r.totalMessages != null ? [r.totalMessages, '', null]
    : r.totalMessagesError ? ['unknown', 'muted', r.totalMessagesError] : [null]),
  chainSync: (r) => {
    if (r.chainSync == null) return [null];
    const behind = Number(r.chainSyncBehindSeconds);
    return behind > 0 ? [`${r.chainSync} (${fmtDuration(behind)} behind)`, 'warn', null]
      : [r.chainSync, /ok/i.test(String(r.chainSync)) ? '' : 'warn', null];
  },
  dealCount: (r) => {
    const deals = r.deals || r.storageDeals;
    const n = r.dealCount ?? (deals && typeof deals === 'object' ? deals.count : null);
    if (n == null) return [null];
    const size = deals && typeof deals === 'object' && deals.size ? ` (${deals.size})` : '';
    const ret = r.retrievalDeals && r.retrievalDeals.count != null ? ` · ${r.retrievalDeals.count} retrieval` : '';
    return [`${n}${size}${ret}`, '', null];
  },
  controlAddresses: (r) => (Array.isArray(r.controlAddresses) && r.controlAddresses.length
    ? [r.controlAddresses.map(shortAddr).join(', '), 'mono', r.controlAddresses.join('\n')] : [null]),
  ownerAddress: (r) => [shortAddr(r.ownerAddress), 'mono', r.ownerAddress],
  workerAddress: (r) => [shortAddr(r.workerAddress), 'mono', r.workerAddress],
};

// "f3vfs6…qd2a": a long address shortened (the whole one is the cell's title).
function shortAddr(a) {
  if (typeof a !== 'string') return a;
  return a.length > 14 ? `${a.slice(0, 6)}…${a.slice(-4)}` : a;
}
const TASK_ORDER = ['AP', 'PC1', 'PC2', 'C1', 'C2', 'GET', 'FIN'];
const RESAMPLE_MS = 10000;

// The sector counters charted, as the server stores them for a miner (docs/history.md#what-is-sampled):
// [record field, stored series, label]. Total, effective and deleted sectors are left to the summary
// above the charts (the first two dwarf these).
const SECTOR_COUNTERS = [
  ['preCommit1', 'sectors.preCommit1', 'PreCommit1'], ['preCommit2', 'sectors.preCommit2', 'PreCommit2'],
  ['waitSeed', 'sectors.waitSeed', 'WaitSeed'], ['committing', 'sectors.committing', 'Committing'],
  ['finalizeSector', 'sectors.finalizeSector', 'Finalize'], ['errorSectors', 'sectors.error', 'Error'],
  ['faultySectors', 'faults', 'Faulty'], ['recoverySectors', 'sectors.recovery', 'Recovering'],
  ['failSectors', 'sectors.fail', 'Failed'],
];
const BALANCES = [['minerBalance', 'balance_miner_fil', 'miner'], ['workerBalance', 'balance_worker_fil', 'worker'],
  ['minerAvailable', 'balance_available_fil', 'available']];

// The miner's stored series (docs/history.md#what-is-sampled) as this page's chart keys; null: not charted.
const MINER_KEYS = new Map([...BALANCES.map(([, s, l]) => [s, 'bal:' + l]),
  ...SECTOR_COUNTERS.map(([, s, l]) => [s, 'sec:' + l])]);
function storedKey(name) { return MINER_KEYS.get(name) ?? null; }

// A worker host's device series (its agent's status uploads) as chart keys: the same figures the
// server joins into the worker entry (cpuLoad: load_avg."1", cpuTemper: cpu_temperature).
function deviceKey(host) {
  return (name) => (name === 'load1' ? 'load:' + host : name === 'cpu_temp' ? 'temp:' + host : null);
}
let rangeMs = HISTORY_MS; // the picked range, kept for the visit

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
  const recError = h('p.error.rec-error#miner-down', { hidden: true }); // the collector's own failure report
  const deadlines = new DeadlinePanel();
  const workersBox = h('div.workers#workers');
  const workersHead = h('h2#workers-head', 'Workers');

  const charts = [
    new TimeChart('Balances (FIL)', { pick: (n) => (n.startsWith('bal:') ? n.slice(4) : null) }),
    // the record's sector counters, as stored (lotus' own sectorStates are the chips above)
    new TimeChart('Sectors (sealing, errors, faults)', { pick: (n) => (n.startsWith('sec:') ? n.slice(4) : null) }),
    new TimeChart('Worker CPU load', { pick: (n) => (n.startsWith('load:') ? n.slice(5) : null) }),
    new TimeChart('Worker CPU temperature', { unit: '°', pick: (n) => (n.startsWith('temp:') ? n.slice(5) : null) }),
  ];
  const chartsNote = h('span.muted.small#history-note');
  // Stored history: the miner's series, and each worker host's device series (CPU load and
  // temperature) when an agent reports that host. A pick of another range starts over (loadSeq);
  // the note counts the stored points loaded for the range so far.
  let loadSeq = 0;
  let storedPoints = 0;
  let storedError = null;
  const loadedHosts = new Set(); // worker hosts whose device history is loaded for this range
  async function loadStored(owner, rename, seq) {
    try {
      const series = await fetchHistory(front, owner, rangeMs);
      if (seq !== loadSeq) return;
      hist.load(series, rename, rangeMs);
      storedPoints += Object.values(series).reduce((a, p) => a + (Array.isArray(p) ? p.length : 0), 0);
    } catch (e) {
      if (seq !== loadSeq) return;
      storedError = storedError || (e.message || String(e));
    }
    setText(chartsNote, storedError ? `stored history not available: ${storedError}` : `${storedPoints} stored points`);
    for (const c of charts) c.update(hist);
  }
  function loadHistory() {
    const seq = ++loadSeq;
    storedPoints = 0;
    storedError = null;
    loadedHosts.clear();
    loadStored({ minerId }, storedKey, seq);
    loadWorkers();
  }
  // Device history of the workers not loaded yet for this range; a worker without an agent has none.
  function loadWorkers() {
    if (!rec) return;
    const seq = loadSeq;
    for (const [host, w] of Object.entries(rec.workerInfo)) {
      if (!w || w.agentDeviceId == null || loadedHosts.has(host)) continue;
      loadedHosts.add(host);
      loadStored({ device_id: w.agentDeviceId }, deviceKey(host), seq);
    }
  }
  const picker = rangePicker(rangeMs, (ms) => { rangeMs = ms; loadHistory(); });
  const content = h('div#miner-content', { hidden: true },
    recError, deadlines.el, summary, states,
    h('div.charts-head', h('h2', 'History'), picker, chartsNote),
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
    loadWorkers();
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
      loadWorkers();
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
      const [text, cls, title] = VIEWS[f] ? VIEWS[f](rec)
        : [typeof v === 'number' && /Power/.test(f) ? fmtBytes(v) : v, ALARM_FIELDS.has(f) && Number(v) > 0 ? 'bad' : ''];
      setText(dd, text == null || text === '' ? '—' : text);
      const className = cls || '';
      if (dd.className !== className) dd.className = className;
      if ((dd.title || null) !== (title || null)) dd.title = title || '';
    }
    deadlines.render(rec, lastRecv);
    // a miner host whose lotus-miner never answered: keyed by its device, named by its host
    if (rec.deviceOnly && rec.hostName && title.dataset.host !== rec.hostName) {
      title.dataset.host = rec.hostName;
      fill(title, 'Miner host ', h('span.mono', rec.hostName), ' ', h('span.muted.small', '(no miner id yet)'));
    }
    const st = rec.sectorStates && typeof rec.sectorStates === 'object' ? Object.entries(rec.sectorStates) : [];
    const text = st.map(([s, n]) => `${s}:${n}`).join(',');
    if (states.dataset.text !== text) {
      states.dataset.text = text;
      fill(states, st.sort((a, b) => b[1] - a[1]).map(([s, n]) => h('span.chip', `${s} `, h('b', n))));
    }
    // minerError: the last collection failed (lotus-miner not answering); `error` the older form
    const down = rec.minerError || rec.error;
    recError.hidden = !down;
    const since = typeof rec.minerErrorSince === 'number' ? ` (since ${fmtTime(rec.minerErrorSince)}, ${fmtAgo(rec.minerErrorSince)})` : '';
    setText(recError, !down ? '' : rec.minerError ? `Miner down: ${rec.minerError}${since}`
      : `The miner's collector reports: ${rec.error}`);
    renderMeta();
  }

  function renderMeta() {
    if (!rec) return;
    const when = typeof rec.updatedTime === 'number' ? rec.updatedTime : Date.parse(rec.timestamp);
    setText(meta, Number.isFinite(when) ? `data of ${fmtTime(when)} · ${fmtAgo(when)}`
      : `live · last change received ${fmtAgo(lastRecv)}`);
  }

  // "Workers (4 · 2 reachable · 1 unreachable · 1 missing)": the count of each netState as it
  // is named (reachable/unreachable/unknown as the miner host sees them), and the missing ones.
  function renderWorkersHead() {
    const ws = Object.values(rec.workerInfo).filter((w) => w && typeof w === 'object');
    const by = new Map();
    for (const w of ws) if (!w.missing) by.set(String(w.netState ?? 'unknown'), (by.get(String(w.netState ?? 'unknown')) || 0) + 1);
    const missing = ws.filter((w) => w.missing).length;
    const parts = [...by.entries()].sort((a, b) => b[1] - a[1]).map(([s, n]) => `${n} ${s}`);
    if (missing) parts.push(`${missing} missing`);
    setText(workersHead, `Workers (${[ws.length, ...parts].join(' · ')})`);
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
    for (const [f, , label] of BALANCES) {
      const n = parseFil(rec[f]);
      if (n != null) v['bal:' + label] = n;
    }
    // the counters as the server samples them (stored history and live values agree)
    for (const [f, , label] of SECTOR_COUNTERS) {
      const n = rec[f] == null || rec[f] === '' ? NaN : Number(rec[f]);
      if (Number.isFinite(n)) v['sec:' + label] = n;
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
    for (const el of workersBox.querySelectorAll('[data-ago]')) setText(el, fmtAgo(Number(el.dataset.ago), now));
    renderMeta();
    deadlines.tick();
    sample(false);
  }, 1000);

  subscribe();
  loadHistory();
  return {
    refresh() { /* the subscription is sent again on reconnect and brings the whole record */ },
    destroy() {
      loadSeq++; // answers still coming load nothing
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
  const running = jobs.filter((j) => j.kind === 'running').length;

  // What lotus says of the worker (listed, enabled, its heartbeat, the tasks it takes), apart
  // from the miner host's reachability of it (netState) and from any agent on that host.
  const lw = w.lotus && typeof w.lotus === 'object' ? w.lotus : {};
  const enabled = lw.enabled ?? w.enabled;
  const missing = w.missing === true || lw.listed === false;
  const types = Array.isArray(w.taskType) && w.taskType.length ? w.taskType : Array.isArray(lw.tasks) ? lw.tasks : [];
  const head = h('div.card-head',
    h('h3', host),
    missing ? h('span.badge.bad', 'missing from lotus', typeof w.lastSeen === 'number' ? [', last seen ', ago(w.lastSeen)] : null)
      : null,
    h('span.net', { dataset: { net: String(w.netState ?? 'unknown') }, title: 'the miner host\'s reachability of this worker' },
      badge(w.netState || 'unknown', netKind(w.netState))),
    // the worker host's own agent, when one reports that host (agentState, joined by the server)
    w.agentState != null ? h('span.agent', { dataset: { agent: String(w.agentState) }, title: 'the edgefleet agent on this host' },
      badge(`agent ${w.agentState}`, stateKind(w.agentState) || 'warn'))
      : REACH.has(String(w.netState)) ? h('span.agent', { dataset: { agent: '' }, title: 'no edgefleet agent reports this host' },
        badge('no agent', '')) : null,
    enabled === false ? badge('disabled', 'bad') : enabled === true ? badge('enabled', 'ok') : null,
    w.taskState != null && w.taskState !== '' ? badge(`task state ${w.taskState}`, '') : null,
    typeof lw.lastSeen === 'number' ? h('span.muted.small.lotus-seen', { title: fmtTime(lw.lastSeen) },
      'lotus heard from it ', ago(lw.lastSeen)) : null,
    h('span.spacer'),
    h('span.chips', types.map((t) => h('span.chip.task', t))));

  const gpus = gpuTable(w);
  // The host's own agent figures when it runs one, else lotus' own view of its resources.
  const agent = w.cpuTemper != null || w.cpuLoad != null || w.totalMemory != null;
  const memPct = typeof w.useMemory === 'number' && typeof w.totalMemory === 'number' && w.totalMemory > 0
    ? (100 * w.useMemory) / w.totalMemory : null;
  const hw = h('dl.kv.hw',
    missing && typeof w.lastSeen === 'number'
      ? [h('dt', 'Last seen'), h('dd.bad.last-seen', `${fmtTime(w.lastSeen)} (`, ago(w.lastSeen), ')')] : null,
    agent ? [
      h('dt', 'CPU temp'), h('dd', { class: Number(w.cpuTemper) >= 85 ? 'bad' : '' }, fmtTemp(w.cpuTemper)),
      h('dt', 'CPU load'), h('dd', fmtNum(w.cpuLoad, 2)),
      w.cpuUsage != null ? [h('dt', 'CPU busy'), h('dd', fmtPercent(w.cpuUsage))] : null,
      h('dt', 'Memory'), h('dd', bar(memPct, `${fmtMiB(w.useMemory)} / ${fmtMiB(w.totalMemory)}`)),
      h('dt', 'Disk'), h('dd', bar(typeof w.useDisk === 'number' ? w.useDisk : null, fmtPercent(w.useDisk))),
      h('dt', 'Disk IO'), h('dd', `R ${fmtBytes(w.diskR, '/s')} · W ${fmtBytes(w.diskW, '/s')}`),
    ] : lotusUse(w, gpus != null));
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

  return h('article.card.worker', { dataset: { host, missing: missing ? 'true' : 'false' },
    class: missing || netKind(w.netState) === 'bad' ? 'off' : '' },
    head,
    h('div.worker-body', h('div.worker-hw', hw, gpus, netTable), h('div.worker-jobs',
      h('h4', `Jobs: ${running} running, ${jobs.length - running} waiting`), jobTable)));
}

// "12 s ago", kept current by the page's ticker (data-ago: the time in ms).
function ago(ms) {
  return h('span', { dataset: { ago: String(ms) } }, fmtAgo(ms));
}

const REACH = new Set(['reachable', 'unreachable', 'unknown']);

// netState -> badge kind: the miner host's reachability of the worker (reachable, unreachable,
// unknown), or a device state (online, offline, Unknown) from a server that joins that instead.
function netKind(s) {
  const v = String(s ?? '').toLowerCase();
  if (v === 'reachable') return 'ok';
  if (v === 'unreachable') return 'bad';
  return stateKind(s) || 'warn';
}

const pair = (o) => (o && typeof o === 'object' ? o : null);

// lotus' own figures of a worker without an agent: cpuUse/ramUse/gpuUse (or cpu/ram/gpu as the
// `sealing workers` parser gives them).
function lotusUse(w, hasGpus) {
  const rows = [];
  const cpu = pair(w.cpuUse) || pair(w.cpu);
  if (cpu) {
    rows.push(h('dt', 'CPU (lotus)'), h('dd', cpu.total != null ? bar(cpu.total > 0 ? (100 * cpu.used) / cpu.total : null,
      `${fmtNum(cpu.used, 0)} / ${fmtNum(cpu.total, 0)} cores`) : `${fmtNum(cpu.used, 0)} cores`));
  }
  const ram = pair(w.ramUse) || pair(w.ram);
  if (ram) {
    const used = ram.usedBytes ?? ram.used;
    const total = ram.totalBytes ?? ram.total;
    const pct = ram.percent ?? (typeof used === 'number' && typeof total === 'number' && total > 0 ? (100 * used) / total : null);
    rows.push(h('dt', 'RAM (lotus)'), h('dd', bar(pct, `${fmtBytes(used)} / ${fmtBytes(total)}`)));
  }
  const gpu = w.gpuUse ?? w.gpu;
  if (gpu != null) {
    const g = pair(gpu);
    const text = g ? `${fmtNum(g.used, 2)} / ${fmtNum(g.total, 0)} in use` : typeof gpu === 'number' ? `${fmtNum(gpu, 2)} in use` : String(gpu);
    rows.push(h('dt', 'GPU (lotus)'), h('dd.gpu-use', g && g.percent != null ? bar(g.percent, text) : text));
  }
  if (!rows.length && !hasGpus) rows.push(h('dt', 'Hardware'), h('dd.muted', 'no agent on this host and no figures from lotus'));
  return rows;
}

// The worker's GPUs: the host agent's collector (`gpuInfo`, joined from that host's status;
// `gpus` entries with figures are taken the same way), one row each; lotus' own list (`gpus`
// entries {name, used}) marks the row of the GPU with the same name "lotus: in use", and adds a
// grey row for a GPU the agent does not report (or every GPU, on a host without an agent).
function gpuTable(w) {
  const lotusList = Array.isArray(w.gpus) ? w.gpus.filter((g) => g && typeof g === 'object') : [];
  const hasFigures = (g) => g.temperature != null || g.utilization != null || g.memoryTotal != null || g.vendor != null;
  const dev = (Array.isArray(w.gpuInfo) ? w.gpuInfo.filter((g) => g && typeof g === 'object') : [])
    .concat(lotusList.filter(hasFigures));
  const lotusOnly = lotusList.filter((g) => !hasFigures(g));
  const lotusSays = (g) => (g.used === true ? 'lotus: in use' : g.used === false ? 'lotus: not in use' : 'lotus');
  const matched = new Set();
  const lotusOf = (name) => {
    const g = lotusOnly.find((x) => !matched.has(x) && x.name && x.name === name);
    if (g) matched.add(g);
    return g;
  };
  if (!dev.length && !lotusOnly.length) {
    return w.gpuTemper != null || w.gpuLoad != null
      ? h('p.small', `GPU ${fmtTemp(w.gpuTemper)} · ${fmtPercent(w.gpuLoad)} busy`) : null;
  }
  const mem = (g) => (g.memoryTotal != null ? `${fmtBytes(g.memoryUsed)} / ${fmtBytes(g.memoryTotal)}` : '—');
  const devRows = dev.map((g, i) => {
    const lg = lotusOf(g.name);
    return h('tr', { dataset: { gpu: String(g.index ?? i) } },
      h('td', g.name || `GPU ${g.index ?? i}`, g.vendor ? h('span.muted.small', ` ${g.vendor}`) : null,
        lg ? h('span.muted.small.lotus-use', ` · ${lotusSays(lg)}`) : null),
      h('td.num', { class: Number(g.temperature ?? g.temp) >= 85 ? 'bad' : '' }, fmtTemp(g.temperature ?? g.temp)),
      h('td.num', fmtPercent(g.utilization ?? g.load)),
      h('td.num', mem(g)),
      h('td.num', g.power != null ? `${fmtNum(g.power, 0)} W` : '—'));
  });
  const rest = lotusOnly.filter((g) => !matched.has(g));
  return h('table.gpus',
    h('thead', h('tr', h('th', 'GPU'), h('th.num', 'Temp'), h('th.num', 'Busy'), h('th.num', 'Memory'), h('th.num', 'Power'))),
    h('tbody', devRows,
      rest.map((g, i) => h('tr.lotus-gpu', { dataset: { gpu: `lotus-${i}` } },
        h('td', g.name || `GPU ${i}`), h('td.muted', { colSpan: 4 }, lotusSays(g))))));
}

function bar(pct, label) {
  if (pct == null || !Number.isFinite(pct)) return label;
  const p = Math.max(0, Math.min(100, pct));
  return h('span.bar', { class: p >= 90 ? 'bad' : p >= 75 ? 'warn' : '', title: `${p.toFixed(1)} %` },
    h('span.fill', { style: `width:${p.toFixed(1)}%` }), h('span.label', label));
}
