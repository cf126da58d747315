// SPDX-License-Identifier: MIT
// mergepatch.js -- RFC 7386 JSON Merge Patch, as the /front pushes use it.

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// Apply patch to target and return the result. Objects are merged key by key (null deletes a
// key), anything else (arrays, scalars, null) replaces the target whole. target is changed in
// place when it is an object and the patch is one too; the result must be used either way.
export function mergePatch(target, patch) {
  if (!isObject(patch)) return clone(patch);
  if (!isObject(target)) target = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '__proto__') continue; // would replace the prototype, not set a member
    if (v === null) delete target[k];
    else target[k] = mergePatch(target[k], v);
  }
  return target;
}

function clone(v) {
  if (v === null || typeof v !== 'object') return v;
  return JSON.parse(JSON.stringify(v));
}
