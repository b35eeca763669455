// Talking to the wyneos API. Every URL is relative, so the page works where the plugin is
// mounted under a prefix. The operator's token travels only in the Authorization header, the
// event stream included: that stream is read with fetch, not EventSource (which cannot send
// headers), so the token never sits in a URL the server, a proxy or the history keeps.

const tokenKey = 'wyneos-operator-token';

/** Thrown when the server wants a (different) token: the page asks the operator for one. */
export class NeedsTokenError extends Error {
  /** @param {number} status */
  constructor(status) {
    super(
      status === 401
        ? 'the server needs the operator token'
        : 'this token is not the operator token',
    );
    this.status = status;
  }
}

/**
 * The token from `?token=` (then removed from the address bar, so it is not bookmarked or
 * shared by accident) or from this tab's sessionStorage; empty when there is none.
 * @returns {string}
 */
export function initialToken() {
  const url = new URL(window.location.href);
  const given = url.searchParams.get('token');
  if (given !== null) {
    saveToken(given);
    url.searchParams.delete('token');
    window.history.replaceState(null, '', url.pathname + url.search + url.hash);
  }
  return sessionStorage.getItem(tokenKey) ?? '';
}

/** @param {string} token */
export function saveToken(token) {
  if (token === '') sessionStorage.removeItem(tokenKey);
  else sessionStorage.setItem(tokenKey, token.trim());
}

/** @param {string} token */
function headers(token) {
  return token === '' ? {} : { authorization: `Bearer ${token}` };
}

/**
 * GETs a JSON route; throws NeedsTokenError on 401/403 and an Error with the server's
 * message otherwise.
 * @param {string} path relative to the page, like `v1/nodes`
 * @param {string} token
 * @param {AbortSignal} [signal]
 */
export async function getJson(path, token, signal) {
  const response = await fetch(path, { headers: headers(token), signal, cache: 'no-store' });
  if (response.status === 401 || response.status === 403)
    throw new NeedsTokenError(response.status);
  const body = await response.json().catch(() => undefined);
  if (!response.ok) {
    throw new Error(body?.error?.message ?? `GET ${path} answered ${response.status}`);
  }
  return body;
}

/**
 * Every node, page after page (`GET /v1/nodes` gives at most 10,000 at once).
 * @param {string} token
 * @param {AbortSignal} [signal]
 */
export async function getAllNodes(token, signal) {
  const nodes = [];
  let after;
  do {
    const query = after === undefined ? '' : `&after=${encodeURIComponent(after)}`;
    const page = await getJson(`v1/nodes?limit=10000${query}`, token, signal);
    nodes.push(...page.nodes);
    after = page.next;
  } while (after !== undefined);
  return nodes;
}

/**
 * Opens `GET /v1/events` and calls `onEvent(name, data)` for every event until the stream
 * ends (resolves) or fails (rejects). Resolves `opened` once the server has accepted it.
 * `cursor.lastEventId` is the id of the last event read, kept up to date here; when it is set
 * the stream resumes after it (`Last-Event-ID`), so a reconnection misses nothing, or the
 * server says `reset` when it cannot resume.
 * @param {string} token
 * @param {AbortSignal} signal
 * @param {(name: string, data: unknown) => void} onEvent
 * @param {() => void} onOpen
 * @param {{ lastEventId: string }} cursor
 */
export async function readEvents(token, signal, onEvent, onOpen, cursor) {
  const resume = cursor.lastEventId === '' ? {} : { 'last-event-id': cursor.lastEventId };
  const response = await fetch('v1/events', {
    headers: { ...headers(token), ...resume },
    signal,
    cache: 'no-store',
  });
  if (response.status === 401 || response.status === 403)
    throw new NeedsTokenError(response.status);
  if (!response.ok || response.body === null) {
    throw new Error(`the event stream answered ${response.status}`);
  }
  onOpen();
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replaceAll('\r\n', '\n');
    // An event ends at a blank line; what follows the last one is kept for the next chunk.
    let end = buffer.indexOf('\n\n');
    while (end !== -1) {
      dispatch(buffer.slice(0, end), onEvent, cursor);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
    }
  }
}

/**
 * One block of the text/event-stream format: `event:`, `id:` and `data:` lines; `:` starts a
 * comment.
 * @param {string} block
 * @param {(name: string, data: unknown) => void} onEvent
 * @param {{ lastEventId: string }} cursor
 */
function dispatch(block, onEvent, cursor) {
  let name = 'message';
  const data = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') cursor.lastEventId = value;
  }
  if (data.length > 0) onEvent(name, JSON.parse(data.join('\n')));
}
