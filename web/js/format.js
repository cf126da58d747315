// SPDX-License-Identifier: MIT
// format.js -- parsing and printing of the values the dashboard shows (lotus strings, bytes, times).

const FIL_UNITS = { aFIL: 1e-18, fFIL: 1e-15, pFIL: 1e-12, nFIL: 1e-9, 'μFIL': 1e-6, 'µFIL': 1e-6,
  uFIL: 1e-6, mFIL: 1e-3, FIL: 1, kFIL: 1e3, MFIL: 1e6 };

// "244.058 mFIL" -> 0.244058; a bare number is taken as FIL; anything else -> null.
export function parseFil(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  const m = /^\s*(-?[\d.]+(?:e[-+]?\d+)?)\s*([a-zA-Zμµ]*FIL)?\s*$/.exec(v);
  if (!m) return null;
  const n = parseFloat(m[1]);
  const unit = FIL_UNITS[m[2] || 'FIL'];
  return Number.isFinite(n) && unit ? n * unit : null;
}

const GO_UNITS = { h: 3600, m: 60, s: 1, ms: 1e-3, 'µs': 1e-6, 'μs': 1e-6, us: 1e-6, ns: 1e-9 };

// A Go duration as lotus prints it ("1h43m11.3s", "19m35.4s", "500ms") -> seconds, or null.
export function parseGoDuration(v) {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || !v.trim()) return null;
  const re = /(\d+(?:\.\d+)?)(h|ms|m|s|µs|μs|us|ns)/g;
  let total = 0; let used = 0; let m;
  while ((m = re.exec(v))) { total += parseFloat(m[1]) * GO_UNITS[m[2]]; used += m[0].length; }
  return used === v.replace(/^-/, '').trim().length ? total : null;
}

// Seconds -> "1h43m11s" (Go's style, whole seconds).
export function fmtDuration(sec) {
  if (sec == null || !Number.isFinite(sec)) return '—';
  sec = Math.max(0, Math.floor(sec));
  const d = Math.floor(sec / 86400); const hh = Math.floor(sec / 3600);
  const mm = Math.floor((sec % 3600) / 60); const ss = sec % 60;
  if (d >= 2) return `${d}d${hh % 24}h`;
  if (hh) return `${hh}h${mm}m${ss}s`;
  if (mm) return `${mm}m${ss}s`;
  return `${ss}s`;
}

// Bytes (or bytes per second with suffix '/s') in binary units.
export function fmtBytes(n, suffix = '') {
  if (n == null || n === '') return '—';
  if (typeof n === 'string') return n; // already formatted by lotus / the agent
  if (!Number.isFinite(n)) return '—';
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i && n < 10 ? 1 : 0)} ${u[i]}${suffix}`;
}

export function fmtMiB(mb) {
  return typeof mb === 'number' ? fmtBytes(mb * 1048576) : fmtBytes(mb);
}

export function fmtNum(v, digits = 1) {
  if (v == null || v === '') return '—';
  const n = typeof v === 'number' ? v : parseFloat(v);
  if (!Number.isFinite(n)) return String(v);
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

export function fmtPercent(v) {
  const s = fmtNum(v);
  return s === '—' ? s : s + ' %';
}

export function fmtTemp(v) {
  const s = fmtNum(v);
  return s === '—' ? s : s + ' °C';
}

// Milliseconds since the epoch -> local "2024-05-01 12:03:04".
export function fmtTime(ms) {
  if (typeof ms === 'string' && /^\d+$/.test(ms)) ms = Number(ms);
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) return ms ? String(ms) : '—';
  const d = new Date(ms);
  const p = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtClock(ms) {
  const d = new Date(ms);
  const p = (x) => String(x).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// "12 s ago", "5 min ago", ...
export function fmtAgo(ms, now = Date.now()) {
  if (typeof ms !== 'number' || !(ms > 0)) return '—';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// The state of a device or a worker's netState -> a badge kind.
export function stateKind(s) {
  const v = String(s == null ? '' : s).toLowerCase();
  if (v === 'online' || v === 'running' || v === 'true' || v === '1') return 'ok';
  if (v === 'unknown' || v === 'assigned' || v === 'prepared') return 'warn';
  if (v === 'offline' || v === 'fail' || v === 'failed' || v === 'false' || v === 'disabled') return 'bad';
  return '';
}
