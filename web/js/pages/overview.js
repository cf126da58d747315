// SPDX-License-Identifier: MIT
// overview.js -- the miners overview: one card per miner and a fleet summary. Live without
// polling: subMinerList pushes merge patches of the miner summaries, subDeviceList the devices'
// state changes (and a hint to fetch the list again when devices are added or removed).

import { h, fill, kv, badge } from '../dom.js';
import { fmtAgo, fmtBytes, fmtTime } from '../format.js';
import { mergePatch } from '../mergepatch.js';
import { firingPanel } from './alerts.js';

const SEVERITIES = ['critical', 'warning']; // worst first; each is a CSS class (sev-…)

export function mount(root, { front }) {
  const summary = h('div.fleet-summary');
  const grid = h('div.cards#miners');
  const status = h('p.muted.small');
  const firing = firingPanel(front); // the rule engine's firing alerts, pushed (subAlerts)
  fill(root,
    h('div.page-head', h('h1', 'Miners'), summary, h('span.spacer'), status),
    firing.el,
    grid);
  let destroyed = false;
  let miners = {};   // minerId -> summary, patched by subMinerList pushes
  let devices = null;

  const stamp = () => { status.textContent = `updated ${fmtTime(Date.now()).slice(11)}`; };
  const minerSub = front.subscribe('subMinerList', {}, {
    onData: (d) => { if (destroyed) return; miners = d && typeof d === 'object' ? d : {}; render(Object.values(miners)); stamp(); },
    onPush: (p) => { if (destroyed) return; miners = mergePatch(miners, p) || {}; render(Object.values(miners)); stamp(); },
    onError: (msg) => { if (!destroyed) fill(grid, h('p.error', `Cannot list the miners: ${msg}`)); },
  });
  const deviceSub = front.subscribe('subDeviceList', {}, {
    onData: () => loadDevices(),
    onPush: (p) => {
      if (destroyed || !devices) return;
      if (p._refresh) { loadDevices(); return; }
      for (const d of devices) if (p[d.device_id]) Object.assign(d, p[d.device_id]);
      renderFleet(devices);
    },
  });

  async function loadDevices() {
    try {
      const d = await front.request('deviceList', {});
      if (destroyed) return;
      devices = Array.isArray(d) ? d : [];
      renderFleet(devices);
    } catch (e) { /* the summary stays as it was */ }
  }

  async function load() { // a manual refresh: the whole lists again
    try {
      const m = await front.request('minerList', {});
      if (destroyed) return;
      miners = {};
      for (const x of Array.isArray(m) ? m : []) miners[x.minerId] = x;
      render(Object.values(miners));
      stamp();
    } catch (e) {
      if (!destroyed && front.state === 'ready') fill(grid, h('p.error', `Cannot list the miners: ${e.message}`));
    }
    loadDevices();
  }

  function render(miners) {
    if (!miners.length) {
      fill(grid, h('section.panel.empty',
        h('h2', 'No miners yet'),
        h('p', 'A miner appears here when the edgefleet-agent on a lotus-miner machine (with the ',
          h('code', 'lotus'), ' collector) uploads its first record.')));
      return;
    }
    miners.sort((a, b) => String(a.minerId).localeCompare(String(b.minerId)));
    fill(grid, miners.map(card));
  }

  function renderFleet(devices) {
    if (!Array.isArray(devices)) { fill(summary); return; }
    const n = { online: 0, Unknown: 0, offline: 0 };
    for (const d of devices) n[d.dev_state in n ? d.dev_state : 'offline']++;
    fill(summary, h('a', { href: '#/devices' }, `${devices.length} devices`), ': ',
      badge(`${n.online} online`, 'ok'), n.Unknown ? badge(`${n.Unknown} unknown`, 'warn') : null,
      badge(`${n.offline} offline`, n.offline ? 'bad' : ''));
  }

  return {
    refresh: load,
    destroy() { destroyed = true; minerSub.close(); deviceSub.close(); firing.close(); },
  };
}

// The miner's alarms exactly as the server computed them (docs/frontend.md#alarms): items
// {type, severity, message}. The page derives none of its own and never reads the message, which
// is only shown; anything not shaped like an item is skipped.
export function alarmsOf(m) {
  return (Array.isArray(m.alarms) ? m.alarms : [])
    .filter((a) => a && typeof a === 'object' && typeof a.type === 'string')
    .map((a) => ({ type: a.type, severity: String(a.severity ?? ''),
      message: typeof a.message === 'string' && a.message ? a.message : a.type }));
}

// The CSS class of a severity: sev-critical or sev-warning (an unknown one looks like a warning).
function sevClass(severity) {
  return `sev-${SEVERITIES.includes(severity) ? severity : 'warning'}`;
}

// The worst severity among the alarms, or null when there are none.
function worst(alarms) {
  if (!alarms.length) return null;
  return alarms.some((a) => a.severity === 'critical') ? 'critical' : 'warning';
}

function alarmList(alarms) {
  return h('ul.alarms', alarms.map((a) => h('li', { class: sevClass(a.severity), title: a.severity || null,
    dataset: { alarm: a.type, severity: a.severity } }, a.message)));
}

function size(v) { return typeof v === 'number' ? fmtBytes(v) : v; }

// A miner that is down: its last collection failed (`minerError` in the summary, docs/protocol.md),
// or a `miner_down` item; a *critical* `miner_error` item is how a server from before issue 11
// said it (a warning `miner_error` is a partial failure, not a miner down). null when it is up.
function downOf(m, alarms) {
  if (typeof m.minerError === 'string' && m.minerError) return { error: m.minerError, since: m.minerErrorSince };
  const a = alarms.find((x) => x.type === 'miner_down')
    || alarms.find((x) => x.type === 'miner_error' && x.severity === 'critical');
  return a ? { error: a.message, since: m.minerErrorSince } : null;
}

// "2 / 3 online · 1 missing": the server's worker counts.
function workersText(m) {
  if (m.workers == null) return '—';
  const extra = [['workersUnreachable', 'unreachable'], ['workersDisabled', 'disabled'], ['workersMissing', 'missing']]
    .filter(([k]) => Number(m[k]) > 0).map(([k, label]) => ` · ${m[k]} ${label}`).join('');
  return `${m.workersOnline ?? '?'} / ${m.workers} online${extra}`;
}

function card(m) {
  const alarms = alarmsOf(m);
  const down = downOf(m, alarms);
  const level = down ? 'critical' : worst(alarms);
  const states = m.sectorStates && typeof m.sectorStates === 'object' ? Object.entries(m.sectorStates) : [];
  states.sort((a, b) => b[1] - a[1]);
  const workers = workersText(m);
  // a miner host whose lotus-miner never answered has no miner id yet: the server keys it by
  // its device (`deviceOnly`, `hostName`)
  const title = m.deviceOnly ? (m.hostName || m.minerId) : m.minerId;
  return h('a.card.miner-card', { href: `#/miner/${encodeURIComponent(m.minerId)}`,
    class: [level ? `alarm ${sevClass(level)}` : '', down ? 'down' : ''].join(' '),
    dataset: { miner: m.minerId, down: down ? 'true' : 'false' } },
  h('div.card-head', h('h2', title), m.deviceOnly ? h('span.muted.small', 'no miner id yet') : null,
    down ? badge('down', 'bad') : null,
    alarms.length ? badge(`${alarms.length} alarm${alarms.length > 1 ? 's' : ''}`, level === 'critical' ? 'bad' : 'warn')
      : down ? null : badge('ok', 'ok')),
  // the error once: here, unless a server alarm item below already says it
  down ? h('p.miner-down', h('b', 'Miner down'),
    alarms.some((a) => a.message.includes(down.error)) ? null : `: ${down.error}`,
    typeof down.since === 'number' ? h('span.small', ` (since ${fmtTime(down.since)}, ${fmtAgo(down.since)})`) : null) : null,
  kv([
    ['Miner balance', m.minerBalance],
    ['Worker balance', m.workerBalance],
    ['Raw power', size(m.rawBytePower)],
    ['Adjusted power', size(m.adjustedPower)],
    ['Sectors', m.totalSectors],
    ['Error sectors', m.errorSectors, Number(m.errorSectors) > 0 ? 'bad' : ''],
    // issue-11 figures, when the server's summary carries them
    m.faultySectors != null ? ['Faulty sectors', m.faultySectors, Number(m.faultySectors) > 0 ? 'bad' : ''] : null,
    m.recoverySectors != null ? ['Recovering sectors', m.recoverySectors] : null,
    m.currentDeadline != null ? ['Deadline', `#${m.currentDeadline}`] : null,
    m.provingCheck && typeof m.provingCheck === 'object' && Number(m.provingCheck.bad) > 0
      ? ['Proving check', `${m.provingCheck.bad} bad in deadline ${m.provingCheck.deadline ?? '?'}`, 'bad'] : null,
    m.totalMessages != null ? ['Messages pending', m.totalMessages] : null,
    ['Workers', workers, Number(m.workers) > Number(m.workersOnline) ? 'warn' : ''],
    ['Updated', fmtAgo(m.updatedTime)],
  ]),
  states.length ? h('div.chips', states.map(([s, n]) => h('span.chip', `${s} `, h('b', n)))) : null,
  alarms.length ? alarmList(alarms) : null);
}
