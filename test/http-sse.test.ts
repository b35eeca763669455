import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeEvent } from '../src/http/sse-encode.js';
import { httpFleet } from './helpers.js';
import { until } from './processes.js';

// The serialiser, spied on: it must run once per event, however many clients listen.
vi.mock('../src/http/sse-encode.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/http/sse-encode.js')>();
  return { ...original, encodeEvent: vi.fn(original.encodeEvent) };
});

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await fleet?.close();
  fleet = undefined;
  vi.mocked(encodeEvent).mockClear();
});

/** An event stream read as it comes: the events (name and data) received so far. */
async function follow(url: string, headers: Record<string, string>) {
  const response = await fetch(`${url}/v1/events`, { headers });
  expect(response.status).toBe(200);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const stream = { events: [] as string[], bytes: 0, ended: false };
  let pending = '';
  let waiting: { count: number; resolve: () => void } | undefined;
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done || value === undefined) break;
      stream.bytes += value.byteLength;
      pending += decoder.decode(value, { stream: true });
      const blocks = pending.split('\n\n');
      pending = blocks.pop() ?? '';
      for (const block of blocks) {
        const name = /^event: (.*)$/m.exec(block)?.[1];
        if (name !== undefined) stream.events.push(name);
      }
      if (waiting !== undefined && stream.events.length >= waiting.count) waiting.resolve();
    }
    stream.ended = true;
  })();
  await until(
    () => stream.events,
    (events) => events.includes('history'),
    5000,
    'the history',
  );
  /** Resolves once `count` events have come; no time limit but the test's. */
  const received = (count: number) =>
    new Promise<void>((resolve) => {
      if (stream.events.length >= count) resolve();
      else waiting = { count, resolve };
    });
  return { stream, received, cancel: () => reader.cancel() };
}

/** A client that asks for the stream over a raw socket and then never reads a byte. */
function stalled(url: string, authorization: string): Promise<Socket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET /v1/events HTTP/1.1\r\nhost: ${hostname}\r\nauthorization: ${authorization}\r\n\r\n`,
      );
      // Read the status line, then stop reading for good.
      socket.once('data', () => {
        socket.pause();
        resolve(socket);
      });
    });
    sockets.push(socket);
  });
}

const metric = async (f: Fleet, name: string) => {
  const text = (await f.app.inject({ url: '/metrics' })).body;
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
};

describe('http event stream (floods)', () => {
  it('refuses a stream past maxSseClients with a coded 503 and Retry-After, and admits one once a slot frees', async () => {
    fleet = await httpFleet({}, { maxSseClients: 2 });
    const url = await fleet.app.listen({ host: '127.0.0.1', port: 0 });
    const first = await follow(url, fleet.operator);
    await follow(url, fleet.operator);

    const refused = await fetch(`${url}/v1/events`, { headers: fleet.operator });
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'WYNEOS_ERR_TOO_MANY_STREAMS',
    );
    expect(await metric(fleet, 'wyneos_sse_clients_refused_total')).toBe(1);
    expect(await metric(fleet, 'wyneos_sse_clients')).toBe(2);

    await first.cancel();
    const f = fleet;
    await until(
      () => metric(f, 'wyneos_sse_clients'),
      (open) => open === 1,
      5000,
      'a free slot',
    );
    await follow(url, fleet.operator);
  });

  it('drops a client that never reads once its buffer passes the limit, while others keep receiving', async () => {
    const limit = 16 * 1024;
    fleet = await httpFleet({}, { sseBufferLimit: limit });
    const { sup, operator } = fleet;
    sup.register({ id: 'n1' });
    const url = await fleet.app.listen({ host: '127.0.0.1', port: 0 });
    const reader = await follow(url, operator);
    await stalled(url, operator.authorization);
    const f = fleet;
    await until(
      () => metric(f, 'wyneos_sse_clients'),
      (open) => open === 2,
      5000,
      'two clients',
    );

    // Each round is about 4 KiB of events, well under the limit, and the reader takes all of it
    // before the next: only the client that never reads falls behind. The kernel's socket
    // buffers take some megabytes first, so the rounds go on until it is dropped.
    const reason = 'r'.repeat(1000);
    let rounds = 0;
    while ((await metric(fleet, 'wyneos_sse_clients_dropped_total')) === 0) {
      expect(rounds++, 'the stalled client was never dropped').toBeLessThan(10_000);
      const before = reader.stream.events.length;
      sup.isolate('n1', reason);
      sup.reinstate('n1', reason);
      await reader.received(before + 4);
    }
    expect(await metric(fleet, 'wyneos_sse_clients')).toBe(1);
    const before = reader.stream.events.length;
    sup.isolate('n1', 'after the drop');
    await until(
      () => reader.stream.events.length,
      (n) => n > before,
      5000,
      'events after',
    );
    expect(reader.stream.ended).toBe(false);
  });

  it('serialises each event once, whatever the number of clients', async () => {
    fleet = await httpFleet();
    const { sup, operator, advance } = fleet;
    sup.register({ id: 'n1' });
    const url = await fleet.app.listen({ host: '127.0.0.1', port: 0 });
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await follow(url, operator));
    vi.mocked(encodeEvent).mockClear();

    sup.isolate('n1', 'maintenance');
    advance(1000);
    const sent = vi.mocked(encodeEvent).mock.calls.map(([event]) => event);
    expect(sent).toContain('transition');
    expect(sent).toContain('tick');
    for (const client of clients) {
      await until(
        () => client.stream.events.length,
        (n) => n === 1 + sent.length,
        5000,
        'every event',
      );
      expect(client.stream.events.slice(1)).toEqual(sent);
    }
  });
});
