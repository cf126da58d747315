// SPDX-License-Identifier: MIT
// devices.js -- the device list (deviceList, kept live by subDeviceList: state changes, and a
// hint to fetch it again when devices are added or removed) and one device: live status
// (subDeviceStatus), orders (REST give_order) and its event log (deviceLog).

import { h, fill, kv, badge, setText } from '../dom.js';
import { mergePatch } from '../mergepatch.js';
import { rest } from '../api.js';
import { fmtAgo, fmtBytes, fmtDuration, fmtMiB, fmtNum, fmtPercent, fmtTemp, fmtTime, stateKind } from '../format.js';

const LOG_LIMIT = 50;
const KNOWN_SECTIONS = new Set(['device_id', 'dev_state', 'status_time', 'CPU_info', 'Memory_info', 'Disk_info',
  'load_avg', 'cpu_usage_percent', 'cpu_temperature', 'memory', 'host_name', 'uptime_s', 'net_io', 'disk_io']);

export function mount(root, { front, token, params }) {
  let devices = [];
  let selected = null;
  let detail = null;
  let destroyed = false;

  const filter = h('input.filter#device-filter', { type: 'search', placeholder: 'Filter by name, id, sn, group…',
    oninput: () => renderList() });
  const count = h('span.muted.small');
  const listBody = h('tbody');
  const list = h('table.devices#device-list',
    h('thead', h('tr', h('th', 'Device'), h('th', 'State'), h('th', 'Groups'))), listBody);
  const detailBox = h('div.device-detail#device-detail');
  fill(root, h('div.page-head', h('h1', 'Devices'), count),
    h('div.devices-layout', h('aside.panel.device-list', filter, h('div.scroll', list)), detailBox));

  async function loadList() {
    try {
      const d = await front.request('deviceList', {});
      if (destroyed) return;
      devices = Array.isArray(d) ? d : [];
      renderList();
      if (detail) detail.listUpdated();
    } catch (e) {
      if (!destroyed && front.state === 'ready') fill(listBody, h('tr', h('td.error', { colspan: 3 }, e.message)));
    }
  }

  const listSub = front.subscribe('subDeviceList', {}, {
    onData: () => loadList(), // after every (re)subscription: the whole list once
    onPush: (p) => {
      if (destroyed) return;
      if (p._refresh) { loadList(); return; }
      let changed = false;
      for (const d of devices) if (p[d.device_id]) { Object.assign(d, p[d.device_id]); changed = true; }
      if (changed) { renderList(); if (detail) detail.listUpdated(); }
    },
  });

  function renderList() {
    const q = filter.value.trim().toLowerCase();
    const shown = devices.filter((d) => !q || [d.device_name, d.device_id, d.device_type,
      d.hardware && d.hardware.sn, d.hardware && d.hardware.model, ...(groupNames(d))]
      .some((x) => x != null && String(x).toLowerCase().includes(q)));
    const online = devices.filter((d) => d.dev_state === 'online').length;
    setText(count, `${devices.length} registered · ${online} online`);
    if (!devices.length) {
      fill(listBody, h('tr', h('td.muted', { colspan: 3 }, 'No devices registered yet (REST device_add, or edgefleetctl).')));
      return;
    }
    fill(listBody, shown.map((d) => h('tr', {
      class: String(d.device_id) === selected ? 'selected' : '',
      dataset: { device: d.device_id },
      onclick: () => { location.hash = `#/devices/${d.device_id}`; },
    },
    h('td', h('a', { href: `#/devices/${d.device_id}` }, d.device_name || (d.hardware && d.hardware.sn) || d.device_id),
      h('div.muted.small', [d.device_type, d.hardware && d.hardware.model].filter(Boolean).join(' · '))),
    h('td', badge(d.dev_state || '?', stateKind(d.dev_state))),
    h('td.small', groupNames(d).join(', ') || '—'))));
  }

  function select(id) {
    selected = id || null;
    if (detail) detail.destroy();
    detail = null;
    for (const tr of listBody.querySelectorAll('tr[data-device]')) tr.classList.toggle('selected', tr.dataset.device === selected);
    if (!selected) {
      fill(detailBox, h('section.panel.empty', h('p.muted', 'Choose a device to see its live status, give it an order and read its log.')));
      return;
    }
    detail = deviceDetail(detailBox, selected, {
      front, token, deviceOf: () => devices.find((d) => String(d.device_id) === selected),
      onState: (state) => {
        const d = devices.find((x) => String(x.device_id) === selected);
        if (d && state && d.dev_state !== state) { d.dev_state = state; renderList(); }
      },
    });
  }

  select(params[0]);
  return {
    navigate(p) { select(p[0]); },
    refresh() { loadList(); if (detail) detail.refresh(); },
    destroy() { destroyed = true; listSub.close(); if (detail) detail.destroy(); },
  };
}

function groupNames(d) {
  return (Array.isArray(d.groups) ? d.groups : []).map((g) => (g && typeof g === 'object' ? g.group_name || g.group_id : g));
}

function deviceDetail(box, id, { front, token, deviceOf, onState }) {
  let status = null;
  let destroyed = false;
  const head = h('div.card-head');
  const info = h('div');
  const statusBox = h('div#device-status', h('p.muted', 'loading…'));
  const logBody = h('tbody');
  const logNote = h('span.muted.small');
  const result = h('div.order-result#order-result', { role: 'status' });

  const orderSel = h('select#order-name', h('option', { value: 'restart' }, 'restart'),
    h('option', { value: 'upload_log' }, 'upload_log'), h('option', { value: '' }, 'custom…'));
  const orderCustom = h('input#order-custom', { type: 'text', placeholder: 'order name', hidden: true });
  orderSel.addEventListener('change', () => { orderCustom.hidden = orderSel.value !== ''; });
  const params = h('textarea#order-params', { rows: 3, spellcheck: 'false' }, '{}');
  const sendBtn = h('button.btn#order-send', { type: 'submit' }, 'Send order');
  const readOnly = front.kind === 'read';
  const orderForm = h('form.order', { onsubmit: (ev) => { ev.preventDefault(); sendOrder(); } },
    h('label', 'Order', orderSel, orderCustom),
    h('label.grow', 'Params (JSON object)', params),
    sendBtn);

  fill(box,
    h('section.panel', head, info),
    h('section.panel', h('h2', 'Live status'), statusBox),
    h('section.panel', h('h2', 'Give an order'),
      readOnly ? h('p.muted.small', 'This token is read-only: orders need an admin token.') : null,
      orderForm, result),
    h('section.panel', h('div.card-head', h('h2', 'Device log'), logNote, h('span.spacer'),
      h('button.btn.small.ghost#log-refresh', { onclick: () => loadLog() }, 'Refresh')),
    h('div.scroll.log', h('table.log#device-log',
      h('thead', h('tr', h('th', 'Time'), h('th', 'Event'), h('th', 'Result'), h('th', 'Detail'))), logBody))));

  function refreshInfo() {
    const d = deviceOf();
    const state = (status && status.dev_state) || (d && d.dev_state);
    fill(head, h('h2', (d && d.device_name) || `Device ${id}`), badge(state || 'unknown', stateKind(state) || 'warn'));
    if (!d) { fill(info, h('p.muted.small', `id ${id}`)); return; }
    const hw = d.hardware || {};
    fill(info, kv([
      ['Device id', h('span.mono', d.device_id)],
      ['Type', d.device_type],
      ['Hardware', [hw.sn, hw.model].filter(Boolean).join(' · ')],
      ['Groups', groupNames(d).join(', ')],
      d.software && d.software.version ? ['Software', d.software.version] : null,
      d.dev_description ? ['Description', d.dev_description] : null,
    ]));
  }

  function renderStatus() {
    refreshInfo();
    if (!status || Object.keys(status).filter((k) => k !== 'device_id' && k !== 'dev_state').length === 0) {
      const st = status && status.dev_state;
      fill(statusBox, h('p.muted', st === 'offline' ? 'The device is offline: no live status.' : 'No status upload yet.'));
      return;
    }
    fill(statusBox, statusView(status));
  }

  let refused = false;
  let sub = null;
  const subscribe = () => {
    if (sub) sub.close();
    refused = false;
    sub = front.subscribe('subDeviceStatus', { device_id: id }, handlers);
  };
  const handlers = {
    onData(data) { refused = false; status = data && typeof data === 'object' ? data : {}; renderStatus(); onState(status.dev_state); },
    onPush(body) {
      const onlyState = Object.keys(body).every((k) => k === 'device_id' || k === 'dev_state');
      status = onlyState ? mergePatch(status || {}, body) : body;
      renderStatus();
      onState(status.dev_state);
      if (onlyState) loadLog();
    },
    onError(message) {
      refused = true;
      status = null;
      const d = deviceOf();
      fill(statusBox, h('p.muted', d && d.dev_state !== 'online' ? `No live status: the device is ${d.dev_state}.` : message));
      refreshInfo();
    },
  };
  subscribe();

  // The list was fetched again: new name/groups/state; a device that came online since a refused
  // subscription gets subscribed again.
  function listUpdated() {
    const d = deviceOf();
    if (refused && d && d.dev_state === 'online') subscribe();
    refreshInfo();
  }

  async function loadLog() {
    try {
      const rows = await front.request('deviceLog', { device_id: id, limit: LOG_LIMIT });
      if (destroyed) return;
      const list = Array.isArray(rows) ? rows : [];
      setText(logNote, `newest ${list.length}`);
      fill(logBody, list.length ? list.map((r) => h('tr',
        h('td.nowrap', fmtTime(r.time)), h('td', r.event), h('td', r.result ? badge(r.result, stateKind(r.result === 'success' ? 'online' : r.result)) : '—'),
        h('td.detail', r.detail || ''))) : h('tr', h('td.muted', { colspan: 4 }, 'No events.')));
    } catch (e) {
      if (!destroyed) fill(logBody, h('tr', h('td.error', { colspan: 4 }, `Cannot read the log: ${e.message}`)));
    }
  }

  async function sendOrder() {
    const order = orderSel.value || orderCustom.value.trim();
    if (!order) { fill(result, h('p.error', 'Give the order a name.')); return; }
    let p;
    try {
      p = JSON.parse(params.value.trim() || '{}');
      if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error('not an object');
    } catch (e) {
      fill(result, h('p.error', `Params must be a JSON object (${e.message}).`));
      return;
    }
    sendBtn.disabled = true;
    fill(result, h('p.muted', `Sending ${order}… (the device has up to 10 s to answer)`));
    const r = await rest('POST', 'give_order', { device_id: id, order, params: p }, token);
    sendBtn.disabled = false;
    if (destroyed) return;
    const at = fmtTime(Date.now()).slice(11);
    if (r.ok) {
      fill(result, h('p.ok', `✔ ${at} ${order}: `, h('span.mono', (r.data && r.data.message) || 'success')));
    } else {
      fill(result, h('p.error', `✘ ${at} ${order} failed${r.status ? ` (HTTP ${r.status})` : ''}: `, h('span.mono', r.message)));
    }
    loadLog();
    setTimeout(() => { if (!destroyed) loadLog(); }, 1000); // the server writes its log behind
  }

  refreshInfo();
  loadLog();
  return {
    listUpdated,
    refresh() { loadLog(); },
    destroy() { destroyed = true; if (sub) sub.close(); },
  };
}

// ---- a status upload, readable ----

function statusView(s) {
  const out = [];
  const cpu = s.CPU_info || {};
  const mem = s.Memory_info || {};
  const disk = s.Disk_info || {};
  const la = s.load_avg || {};
  const memUsed = typeof mem.total_memory_mb === 'number' && typeof mem.free_memory_mb === 'number'
    ? mem.total_memory_mb - mem.free_memory_mb - (mem.buff_cache_mb || 0) : null;
  const pct = (a, b) => (typeof a === 'number' && typeof b === 'number' && b > 0 ? (100 * a) / b : null);

  out.push(h('div.status-grid',
    tile('CPU', s.cpu_usage_percent != null ? fmtPercent(s.cpu_usage_percent) : cpuShare(cpu),
      [la['1'] != null ? `load ${fmtNum(la['1'], 2)} / ${fmtNum(la['5'], 2)} / ${fmtNum(la['15'], 2)}` : null,
        s.cpu_temperature != null ? fmtTemp(s.cpu_temperature) : null]),
    tile('Memory', memUsed != null ? fmtPercent(pct(memUsed, mem.total_memory_mb)) : '—',
      [memUsed != null ? `${fmtMiB(memUsed)} used of ${fmtMiB(mem.total_memory_mb)}` : null,
        mem.buff_cache_mb != null ? `${fmtMiB(mem.buff_cache_mb)} cache` : null]),
    tile('Disk /', disk.root_used_percent != null ? fmtPercent(disk.root_used_percent) : '—',
      [disk.root_total_size_mb != null ? `${fmtMiB(disk.root_used_size_mb)} used of ${fmtMiB(disk.root_total_size_mb)}` : null]),
    tile('Host', s.host_name || '—', [s.uptime_s != null ? `up ${fmtDuration(s.uptime_s)}` : null,
      s.status_time ? `status ${fmtAgo(s.status_time)}` : null])));

  const rates = [];
  for (const n of Array.isArray(s.net_io) ? s.net_io : []) {
    if (n && n.name) rates.push(h('tr', h('td', 'net'), h('td', n.name), h('td', `RX ${fmtBytes(n.rx, '/s')}`), h('td', `TX ${fmtBytes(n.tx, '/s')}`)));
  }
  for (const d of Array.isArray(s.disk_io) ? s.disk_io : []) {
    if (d && d.name) rates.push(h('tr', h('td', 'disk'), h('td', d.name), h('td', `R ${fmtBytes(d.read_bps, '/s')}`), h('td', `W ${fmtBytes(d.write_bps, '/s')}`)));
  }
  if (rates.length) out.push(h('table.rates', h('tbody', rates)));

  // Everything else the agent sent (its collectors' extra sections), and the raw basics.
  const rest = Object.entries(s).filter(([k]) => !KNOWN_SECTIONS.has(k));
  const raw = [['CPU_info', cpu], ['Memory_info', mem], ['Disk_info', disk], ['memory', s.memory]]
    .filter(([, v]) => v && typeof v === 'object' && Object.keys(v).length);
  out.push(h('details.sections', h('summary', `All sections (${rest.length + raw.length})`),
    h('div.section-grid', [...rest, ...raw].map(([k, v]) => h('div.section', h('h4', k), valueView(v))))));
  return out;
}

function cpuShare(c) {
  const busy = (c.user_cpu_time || 0) + (c.system_cpu_time || 0) + (c.io_wait_cpu_time || 0);
  const total = busy + (c.idle_cpu_time || 0);
  return total > 0 ? fmtPercent((100 * busy) / total) : '—';
}

function tile(title, big, lines) {
  return h('div.tile', h('div.tile-title', title), h('div.tile-big', big),
    lines.filter(Boolean).map((l) => h('div.muted.small', l)));
}

function valueView(v) {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    return h('dl.kv.small', Object.entries(v).map(([k, x]) => [h('dt', k),
      h('dd', x && typeof x === 'object' ? JSON.stringify(x) : String(x))]));
  }
  return h('pre.small', typeof v === 'string' ? v : JSON.stringify(v, null, 1));
}
