// SPDX-License-Identifier: MIT
// alerts.js -- the Alerts page (docs/dashboard.md#alerts): firing, pending and recently resolved
// alerts from the server's rule engine (docs/alerts.md), live through subAlerts (the server
// pushes the whole list whenever it changes), with Acknowledge and Silence (1 h) buttons for
// operator tokens (the /front requests alertAck and alertSilence), and the active silences.
// Also exports firingPanel(), the overview's strip of firing alerts.

import { h, fill, badge } from '../dom.js';
import { fmtAgo, fmtTime } from '../format.js';

const STATE_KIND = { firing: 'bad', pending: 'warn', resolved: 'ok' };

function alertsOf(d) {
  return d && Array.isArray(d.alerts) ? d.alerts.filter((a) => a && typeof a.fingerprint === 'string') : [];
}

function labelsText(labels) {
  return Object.entries(labels && typeof labels === 'object' ? labels : {})
    .map(([k, v]) => `${k}=${v}`).join(' ');
}

export function mount(root, { front }) {
  const status = h('p.muted.small');
  const body = h('tbody#alert-rows');
  const silences = h('div#silences');
  const note = h('p.small.muted#alert-note');
  fill(root,
    h('div.page-head', h('h1', 'Alerts'), h('span.spacer'), status),
    h('section.panel',
      h('table.alerts#alert-table',
        h('thead', h('tr', ['State', 'Severity', 'Rule', 'Summary', 'Labels', 'Since', ''].map((t) => h('th', t)))),
        body),
      note),
    h('section.panel', h('h2', 'Silences'), silences));
  let destroyed = false;

  async function act(uri, a, extra = {}) {
    try {
      await front.request(uri, { fingerprint: a.fingerprint, ...extra });
      note.textContent = `${uri === 'alertAck' ? 'Acknowledged' : 'Silenced for 1 h'}: ${a.fingerprint}`;
    } catch (e) {
      note.textContent = `${a.fingerprint}: ${e.message}`;
    }
  }

  function row(a) {
    const open = a.state !== 'resolved';
    const acked = a.acked_at ? badge(`acked by ${a.acked_by || '?'}`, 'ok') : null;
    return h('tr', { dataset: { fingerprint: a.fingerprint, state: a.state, rule: a.rule } },
      h('td', badge(a.state, STATE_KIND[a.state] || '')),
      h('td', { class: `sev-${a.severity === 'critical' ? 'critical' : 'warning'}` }, a.severity),
      h('td', a.rule),
      h('td.summary', a.summary || a.rule, a.silenced ? [' ', badge('silenced', 'warn')] : null, acked ? [' ', acked] : null),
      h('td.small.muted', labelsText(a.labels)),
      h('td', { title: fmtTime(a.since) }, fmtAgo(a.since)),
      h('td', open ? [
        a.acked_at ? null : h('button.btn.small.ack', { onclick: () => act('alertAck', a) }, 'Acknowledge'),
        ' ',
        a.silenced ? null : h('button.btn.small.ghost.silence', { onclick: () => act('alertSilence', a, { duration: 3600000 }) }, 'Silence 1 h'),
      ] : null));
  }

  function render(d) {
    const list = alertsOf(d);
    if (!list.length) fill(body, h('tr', h('td.muted', { colspan: 7 }, 'No alerts: every rule is quiet.')));
    else fill(body, list.map(row));
    const sil = d && Array.isArray(d.silences) ? d.silences : [];
    fill(silences, sil.length
      ? h('ul', sil.map((s) => h('li', `${s.fingerprint || 'rule ' + s.rule} until ${fmtTime(s.until)}`,
        s.by ? ` (by ${s.by})` : '', s.comment ? ` — ${s.comment}` : '')))
      : h('p.muted', 'None.'));
    status.textContent = `updated ${fmtTime(Date.now()).slice(11)}`;
  }

  const sub = front.subscribe('subAlerts', {}, {
    onData: (d) => { if (!destroyed) render(d); },
    onPush: (d) => { if (!destroyed) render(d); },
    onError: (msg) => { if (!destroyed) fill(body, h('tr', h('td.error', { colspan: 7 }, `Cannot list the alerts: ${msg}`))); },
  });

  async function refresh() {
    try { render(await front.request('alertList', {})); } catch (e) { /* stays */ }
  }

  return { refresh, destroy() { destroyed = true; sub.close(); } };
}

// The overview's strip: the firing alerts, live. Returns {el, close()}.
export function firingPanel(front) {
  const el = h('section.panel.firing-alerts#firing-alerts', { hidden: true });
  const render = (d) => {
    const firing = alertsOf(d).filter((a) => a.state === 'firing');
    el.hidden = !firing.length;
    fill(el, h('h2', h('a', { href: '#/alerts' }, `${firing.length} firing alert${firing.length === 1 ? '' : 's'}`)),
      h('ul.alarms', firing.map((a) => h('li', { class: `sev-${a.severity === 'critical' ? 'critical' : 'warning'}`,
        dataset: { fingerprint: a.fingerprint } }, a.summary || a.rule))));
  };
  const sub = front.subscribe('subAlerts', {}, { onData: render, onPush: render });
  return { el, close: () => sub.close() };
}
