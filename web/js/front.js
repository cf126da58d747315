// SPDX-License-Identifier: MIT
// front.js -- the client of edgefleetd's /front WebSocket (docs/frontend.md): sign-in, requests
// with msgId, subscriptions with pushes, reconnect with backoff (then sign in, subscribe again).

const REQUEST_TIMEOUT_MS = 10000;
const BACKOFF_MS = [500, 1000, 2000, 4000, 8000, 15000];

export class FrontError extends Error {}

// Events (EventTarget): 'state' {detail: {state, attempt, retryInMs, message}} with state one of
// connecting | ready | retrying | denied | stopped; 'ready' after each successful sign-in.
export class Front extends EventTarget {
  constructor(url, token) {
    super();
    this.url = url;
    this.token = token;
    this.ws = null;
    this.state = 'stopped';
    this.attempt = 0;
    this.seq = 0;
    this.pending = new Map(); // msgId -> {resolve, reject, timer}
    this.subs = new Set(); // {event, body, onData, onPush, onError, key}
    this.retryTimer = null;
    this.lastError = '';
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.failPending('signed out');
    if (this.ws) { this.ws.onclose = null; this.ws.close(); this.ws = null; }
    this.setState('stopped');
  }

  setState(state, extra = {}) {
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, attempt: this.attempt, ...extra } }));
  }

  connect() {
    this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.retry(String(e.message || e));
      return;
    }
    this.ws = ws;
    let signedIn = false;
    ws.onopen = () => {
      this.send({ uri: 'login', body: { token: this.token }, msgId: this.nextId() }, (m) => {
        if (m.code === 1) {
          signedIn = true;
          this.attempt = 0;
          this.kind = m.data && m.data.kind;
          this.setState('ready');
          for (const s of this.subs) this.sendSub(s);
          this.dispatchEvent(new Event('ready'));
        } else {
          this.denied = m.message || 'sign-in refused';
          this.stopped = true;
          ws.close();
          this.setState('denied', { message: this.denied });
        }
      });
    };
    ws.onmessage = (ev) => this.receive(ev.data);
    ws.onerror = () => { this.lastError = 'cannot reach the server'; };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.failPending('connection lost');
      if (this.stopped) return;
      const why = ev.reason || this.lastError || (signedIn ? 'connection lost' : 'connection closed');
      this.lastError = '';
      this.retry(why);
    };
  }

  retry(message) {
    const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
    this.attempt++;
    this.setState('retrying', { retryInMs: wait, message });
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  // Try again now (the "retry now" button).
  reconnectNow() {
    if (this.state !== 'retrying') return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  nextId() { return String(++this.seq); }

  send(msg, onReply) {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new FrontError('not connected');
    if (onReply) {
      const timer = setTimeout(() => {
        this.pending.delete(msg.msgId);
        onReply({ code: 0, message: 'no answer from the server', msgId: msg.msgId });
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(msg.msgId, { onReply, timer });
    }
    ws.send(JSON.stringify(msg));
  }

  failPending(message) {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.onReply({ code: 0, message, msgId: id, transport: true });
    }
    this.pending.clear();
  }

  receive(text) {
    let m;
    try { m = JSON.parse(text); } catch (e) { console.warn('front: not JSON', text); return; }
    if (m && m.msgId != null && this.pending.has(String(m.msgId))) {
      const p = this.pending.get(String(m.msgId));
      this.pending.delete(String(m.msgId));
      clearTimeout(p.timer);
      p.onReply(m);
      return;
    }
    if (m && m.msgId == null && m.code === 0 && typeof m.message === 'string') {
      this.lastError = m.message; // said before closing, e.g. "too many front-end connections"
      return;
    }
    if (m && typeof m.message === 'string' && m.body && typeof m.body === 'object') {
      for (const s of this.subs) {
        if (s.event === m.message && s.matches(m.body)) s.onPush(m.body);
      }
    }
  }

  // request('minerList', {}) -> Promise of data; rejects with FrontError(message).
  request(uri, body = {}) {
    return new Promise((resolve, reject) => {
      try {
        this.send({ uri, body, msgId: this.nextId() }, (m) => {
          if (m.code === 1) resolve(m.data);
          else reject(new FrontError(m.message || 'request failed'));
        });
      } catch (e) {
        reject(e);
      }
    });
  }

  // subscribe('subMinerInfo', {minerId}, {onData, onPush, onError}) -> {close()}. Sent now when
  // signed in, and again after every reconnect; onData gets each subscription response's data
  // (the whole record), onPush each push body, onError a refused subscription's message.
  subscribe(event, body, handlers) {
    const keys = Object.keys(body);
    const s = {
      event, body, ...handlers,
      matches: (b) => keys.every((k) => b[k] == null || String(b[k]) === String(body[k])),
    };
    this.subs.add(s);
    if (this.state === 'ready') this.sendSub(s);
    return {
      close: () => {
        if (!this.subs.delete(s)) return;
        if (this.state === 'ready') {
          try {
            this.send({ event: 'un' + event, body, msgId: this.nextId() }, () => {});
          } catch (e) { /* gone anyway */ }
        }
      },
    };
  }

  sendSub(s) {
    try {
      this.send({ event: s.event, body: s.body, msgId: this.nextId() }, (m) => {
        if (!this.subs.has(s)) return;
        if (m.code === 1) s.onData && s.onData(m.data);
        else if (!m.transport) s.onError && s.onError(m.message || 'subscription refused');
      });
    } catch (e) { /* not connected: sent again on the next sign-in */ }
  }
}
