// SPDX-License-Identifier: MIT
// app.js -- the dashboard shell: sign-in, the /front session and its state, hash routing to pages.

import { h, fill } from './dom.js';
import { Front } from './front.js';
import * as overview from './pages/overview.js';
import * as miner from './pages/miner.js';
import * as devices from './pages/devices.js';
import * as alerts from './pages/alerts.js';

const TOKEN_KEY = 'edgefleet.token';
const ROUTES = { '': overview, miners: overview, miner, devices, alerts };

// Set once per page load: a reload (or a navigation away and back) gives a new one.
window.efLoadMarker = `${Date.now()}-${Math.random().toString(36).slice(2)}`;

const $ = (id) => document.getElementById(id);
const main = $('main');
const banner = $('banner');
const conn = $('conn');

const app = {
  front: null,
  token: null,
  page: null,
  routeKey: null,
  everReady: false,
  countdown: null,
};
window.efApp = app; // for the console and the end-to-end test

function wsUrl() {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/front`;
}

function parseRoute() {
  const parts = location.hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent);
  const name = parts[0] || '';
  return { name, module: ROUTES[name], params: parts.slice(1).filter(Boolean) };
}

// ---- sign-in --------------------------------------------------------------------------------

function showSignIn(error) {
  unmountPage();
  $('nav').hidden = true;
  $('signout').hidden = true;
  conn.hidden = true;
  banner.hidden = true;
  const input = h('input#token', { type: 'password', autocomplete: 'current-password', required: true,
    placeholder: 'API token', spellcheck: 'false' });
  const button = h('button.btn#signin', { type: 'submit' }, 'Sign in');
  const form = h('form.signin', {
    onsubmit: (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (!token) return;
      button.disabled = true;
      button.textContent = 'Signing in…';
      startSession(token);
    },
  },
  h('h1', 'Sign in'),
  h('p.muted', 'Use an edgefleet API token: the admin token from ', h('code', '<data-dir>/admin.token'),
    ', or a read token made with ', h('code', 'api_token_add'), '.'),
  error ? h('p.error#signin-error', { role: 'alert' }, error) : null,
  h('label', { for: 'token' }, 'API token'), input, button);
  fill(main, h('section.signin-wrap', form));
  input.focus();
}

function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
  if (app.front) app.front.stop();
  app.front = null;
  app.token = null;
  app.everReady = false;
  showSignIn();
}

// ---- the session ----------------------------------------------------------------------------

function startSession(token) {
  if (app.front) app.front.stop();
  app.token = token;
  app.everReady = false;
  const front = new Front(wsUrl(), token);
  app.front = front;
  front.addEventListener('state', (ev) => { if (app.front === front) onState(ev.detail); });
  front.addEventListener('ready', () => { if (app.front === front) onReady(); });
  front.start();
}

function onReady() {
  sessionStorage.setItem(TOKEN_KEY, app.token);
  $('nav').hidden = false;
  $('signout').hidden = false;
  main.classList.remove('stale');
  if (!app.everReady) {
    app.everReady = true;
    route();
  } else if (app.page && app.page.refresh) {
    app.page.refresh(); // back after a reconnect: fetch again what the page shows
  }
}

function onState({ state, retryInMs, message, attempt }) {
  clearInterval(app.countdown);
  conn.hidden = false;
  conn.className = 'conn ' + state;
  conn.textContent = { connecting: 'connecting…', ready: 'live', retrying: 'offline',
    denied: 'refused', stopped: '' }[state] || state;
  if (state === 'denied') {
    sessionStorage.removeItem(TOKEN_KEY);
    app.front = null;
    showSignIn(`The server refused this token (${message}).`);
    return;
  }
  if (state === 'ready' || state === 'connecting' || state === 'stopped') {
    if (state === 'ready') banner.hidden = true;
    if (state === 'connecting' && !app.everReady && !main.querySelector('.signin')) {
      fill(main, h('p.loading', 'Connecting to the server…'));
    }
    return;
  }
  // retrying
  main.classList.add('stale');
  const until = Date.now() + retryInMs;
  const text = h('span');
  const tick = () => {
    const s = Math.max(0, Math.ceil((until - Date.now()) / 1000));
    text.textContent = `${app.everReady ? 'Connection to the server lost' : 'Cannot reach the server'}`
      + ` (${message}). Reconnecting in ${s} s… (attempt ${attempt})`;
  };
  tick();
  app.countdown = setInterval(tick, 500);
  fill(banner, text, h('button.btn.small', { onclick: () => app.front && app.front.reconnectNow() }, 'Retry now'),
    h('button.btn.small.ghost', { onclick: signOut }, 'Sign out'));
  banner.hidden = false;
  if (!app.everReady && !main.querySelector('.loading')) fill(main, h('p.loading', 'Waiting for the server…'));
}

// ---- routing --------------------------------------------------------------------------------

function unmountPage() {
  if (app.page && app.page.destroy) app.page.destroy();
  app.page = null;
  app.routeKey = null;
}

function route() {
  if (!app.front || !app.everReady) return;
  const r = parseRoute();
  const key = location.hash;
  if (key === app.routeKey && app.page) return;
  // Pages that handle their own sub-routes (devices/<id>) get told instead of remounted.
  if (app.page && app.page.name === r.name && app.page.navigate) {
    app.routeKey = key;
    app.page.navigate(r.params);
    markNav(r.name);
    return;
  }
  unmountPage();
  app.routeKey = key;
  markNav(r.name);
  const root = h('div.page');
  fill(main, root);
  if (!r.module) {
    fill(root, h('section.panel', h('h1', 'Not found'), h('p', 'No page at ', h('code', location.hash), '. ',
      h('a', { href: '#/' }, 'Back to the miners'))));
    return;
  }
  app.page = r.module.mount(root, { front: app.front, token: app.token, params: r.params, app });
  app.page.name = r.name;
  window.scrollTo(0, 0);
}

function markNav(name) {
  const sel = name === 'devices' || name === 'alerts' ? name : 'overview';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.nav === sel);
}

// ---- start ----------------------------------------------------------------------------------

$('signout').addEventListener('click', signOut);
window.addEventListener('hashchange', route);
const saved = sessionStorage.getItem(TOKEN_KEY);
if (saved) startSession(saved);
else showSignIn();
