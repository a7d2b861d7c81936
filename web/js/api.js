// The admin REST API: the token lives in sessionStorage (this tab only) and goes out
// as "Authorization: Bearer". Errors become ApiError with the server's message,
// code and position ({line, column, offset}) when it sent one.

const TOKEN_KEY = 'iotblocks.adminToken';

export class ApiError extends Error {
  constructor(status, body) {
    const message = (body && (body.error || body.message)) || `HTTP ${status}`;
    super(message);
    this.status = status;
    this.code = body && body.code;
    this.position = body && body.position ? body.position : positionFromMessage(message);
  }
}

/** Older endpoints put the position in the message only ("... at 3:14"). A rule's
 *  "sql: <error> at L:C at l:c" names the spot in the SQL first, then the document's. */
function positionFromMessage(message) {
  const all = [...(message || '').matchAll(/ at (\d+):(\d+)/g)];
  if (!all.length) return null;
  const m = message.startsWith('sql:') ? all[0] : all[all.length - 1];
  return {line: Number(m[1]), column: Number(m[2])};
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** Calls /admin{path}; resolves with the parsed JSON body, rejects with ApiError. */
export async function admin(method, path, body, {tokenOverride} = {}) {
  const headers = {Authorization: 'Bearer ' + (tokenOverride ?? token())};
  const init = {method, headers, cache: 'no-store'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
  }
  const res = await fetch('/admin' + path, init);
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = {message: text};
  }
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && tokenOverride === undefined) onUnauthorized();
    throw err;
  }
  return data;
}

/** The unauthenticated console configuration (listener ports, WebSocket path). */
export async function consoleConfig() {
  const res = await fetch('/console/config.json', {cache: 'no-store'});
  if (!res.ok) throw new Error('config.json: HTTP ' + res.status);
  return res.json();
}

export const enc = encodeURIComponent;
