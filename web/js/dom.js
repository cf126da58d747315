// SPDX-License-Identifier: MIT
// dom.js -- a tiny element builder: h('div.card', {attrs}, children...) and friends.

// h('tag.class1.class2#id', props?, ...children): props are attributes, except `on*` (listeners),
// `dataset` (object) and `text`. Children are nodes, strings, numbers or (nested) arrays;
// null/undefined/false are skipped. Strings are always text, never HTML.
export function h(sel, props, ...children) {
  if (props == null || typeof props !== 'object' || props instanceof Node || Array.isArray(props)) {
    children.unshift(props);
    props = {};
  }
  const m = /^([a-z0-9]+)?((?:[.#][\w-]+)*)$/i.exec(sel);
  const el = document.createElement((m && m[1]) || 'div');
  for (const part of ((m && m[2]) || '').match(/[.#][\w-]+/g) || []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(props)) {
    if (v == null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'class') el.classList.add(...String(v).split(/\s+/).filter(Boolean));
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// Replace every child of el by children.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Set the text of el only when it differs (no layout work for unchanged values).
export function setText(el, text) {
  const s = text == null ? '' : String(text);
  if (el.textContent !== s) el.textContent = s;
}

// A small key/value grid: rows = [[label, value, extraClass?], ...].
export function kv(rows) {
  return h('dl.kv', rows.filter(Boolean).map(([k, v, cls]) => [
    h('dt', k), h('dd', cls ? { class: cls } : {}, v == null || v === '' ? '—' : v)]));
}

export function badge(text, kind) {
  return h('span.badge', { class: kind || '' }, text);
}
