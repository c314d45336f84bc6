// The token and this service's API: one page, or every page of a list.

import { $, query } from "./format.js";

export const API = "/api/v1";
export const KEY = "incubator.token";

// ---- the token and the API -------------------------------------------------------------

export const token = () => sessionStorage.getItem(KEY) || localStorage.getItem(KEY);
export class SignedOut extends Error {}

export async function api(path) {
  const t = token();
  if (!t) throw new SignedOut("no token");
  const r = await fetch(API + path, { headers: { Authorization: `Bearer ${t}`, Accept: "application/json" } });
  if (r.status === 401) throw new SignedOut("token refused");
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.detail || body.title || `HTTP ${r.status}`);
  return body;
}
/** Every page of a paged list (`items`, `next`), up to `max` items. */
export async function all(path, params, max = 5000) {
  let items = [];
  let after = null;
  let first = null;
  do {
    const page = await api(path + query({ ...params, limit: 500, after }));
    first = first || page;
    items = items.concat(page.items);
    after = page.next;
  } while (after && items.length < max);
  return { ...first, items };
}
