// SPDX-License-Identifier: MIT
// api.js -- calls to the northbound REST API (docs/api.md) with the signed-in token as Bearer.

const BASE = '/service/devices_manage/';

// rest('POST', 'give_order', {...}) -> {ok, status, data, message}; never throws.
export async function rest(method, route, body, token) {
  const headers = { Authorization: 'Bearer ' + token };
  const init = { method, headers };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body || {});
  }
  let resp;
  try {
    resp = await fetch(BASE + route, init);
  } catch (e) {
    return { ok: false, status: 0, message: 'cannot reach the server' };
  }
  let json = null;
  try { json = await resp.json(); } catch (e) { /* not JSON: say so below */ }
  if (json && json.status === 'success') return { ok: true, status: resp.status, data: json.data };
  const message = (json && json.message) || `HTTP ${resp.status} ${resp.statusText}`;
  return { ok: false, status: resp.status, message, type: json && json.type };
}
