import type { ServerResponse } from 'node:http';
import { EventSource } from 'eventsource';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { runServe } from '../src/cli/serve.js';
import { EventBroadcast } from '../src/http/event-broadcast.js';
import type { HttpMetrics } from '../src/http/metrics.js';
import { ReplayBuffer } from '../src/http/replay-buffer.js';
import { httpFleet, silentLogger, simulatedSupervisor } from './helpers.js';
import { until } from './processes.js';

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet | undefined;
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await fleet?.close();
  fleet = undefined;
});

interface Received {
  readonly event: string;
  readonly id: string;
  readonly data: string;
}

const kinds = ['history', 'reset', 'transition', 'action', 'report', 'tick', 'admission', 'fleet'];

/**
 * The `eventsource` package's client, with the operator's token added to its requests. Every
 * request after the first waits for `reconnect` to be called, so that the test decides what
 * happens while it is away; `drop()` breaks the connection as a network would.
 */
function eventSource(url: string, headers: Record<string, string>) {
  const received: Received[] = [];
  const requests: Array<Record<string, string>> = [];
  let drop: () => void = () => {};
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const source = new EventSource(`${url}/v1/events`, {
    fetch: async (input, init) => {
      const sent = { ...(init?.headers as Record<string, string>) };
      requests.push(sent);
      if (requests.length > 1) await gate;
      const response = await fetch(input, { ...init, headers: { ...sent, ...headers } });
      // The body passed on through a stream of the test's own, which `drop` ends as a lost
      // connection would; the connection to the server is closed with it.
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      let ended = false;
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          drop = () => {
            ended = true;
            controller.close();
            void reader.cancel();
          };
        },
        async pull(controller) {
          const { value, done } = await reader
            .read()
            .catch(() => ({ value: undefined, done: true }));
          if (ended) return;
          if (done || value === undefined) controller.close();
          else controller.enqueue(value);
        },
      });
      return new Response(body, { status: response.status, headers: response.headers });
    },
  });
  for (const kind of kinds) {
    source.addEventListener(kind, (e) => {
      received.push({ event: kind, id: e.lastEventId, data: e.data });
    });
  }
  cleanups.push(() => source.close());
  return { source, received, requests, drop: () => drop(), reconnect: release };
}

/** A stream read with plain fetch: its raw text so far, comments and `retry:` included. */
async function rawStream(url: string, headers: Record<string, string>) {
  const controller = new AbortController();
  const response = await fetch(`${url}/v1/events`, { headers, signal: controller.signal });
  expect(response.status).toBe(200);
  const stream = { text: '' };
  cleanups.push(() => controller.abort());
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
        stream.text += decoder.decode(chunk, { stream: true });
      }
    } catch {
      // aborted at the end of the test
    }
  })();
  /** The events so far, comments and the `retry:` block left out. */
  const events = () =>
    stream.text
      .split('\n\n')
      .filter((block) => /^event: /m.test(block))
      .map((block) => ({
        event: /^event: (.*)$/m.exec(block)?.[1] ?? '',
        id: /^id: (.*)$/m.exec(block)?.[1] ?? '',
        data: /^data: (.*)$/m.exec(block)?.[1] ?? '',
      }));
  return { stream, events };
}

const withIds = (events: readonly Received[]) => events.filter((e) => e.id !== '');

describe('http event stream (resuming)', () => {
  it('resumes the real eventsource client after a disconnect with exactly the events it missed, in order', async () => {
    fleet = await httpFleet({}, { sseRetryMs: 10 });
    const { sup, operator, advance } = fleet;
    sup.register({ id: 'n1' });
    sup.register({ id: 'n2' });
    const url = await fleet.app.listen({ host: '127.0.0.1', port: 0 });
    // The reference: a client that stays connected throughout and sees every event.
    const reference = await rawStream(url, operator);
    const client = eventSource(url, operator);
    await until(
      () => client.received,
      (r) => r.some((e) => e.event === 'history'),
      5000,
      'history',
    );

    sup.isolate('n1', 'before the drop');
    const sent = () => reference.events().filter((e) => e.id !== '').length;
    await until(
      () => sent(),
      (n) => n > 0,
      5000,
      'the isolation',
    );
    await until(
      () => withIds(client.received).length,
      (n) => n === sent(),
      5000,
      'all of it',
    );
    const lastSeen = client.received.at(-1)?.id ?? '';
    client.drop();
    await until(
      () => client.requests.length,
      (n) => n === 2,
      5000,
      'the reconnection',
    );

    // Meanwhile: changes the client is away for.
    sup.isolate('n2', 'while away');
    sup.reinstate('n1', 'while away');
    advance(1000);
    const missedCount = () => {
      const all = reference.events().filter((e) => e.id !== '');
      return all.slice(all.findIndex((e) => e.id === lastSeen) + 1);
    };
    await until(missedCount, (m) => m.some((e) => e.event === 'tick'), 5000, 'the tick');
    const missed = missedCount();
    expect(missed.map((e) => e.event)).toEqual(expect.arrayContaining(['transition', 'tick']));

    client.reconnect();
    const before = client.received.length;
    await until(
      () => client.received.length - before,
      (n) => n >= missed.length,
      5000,
      'the missed events',
    );
    expect(client.requests[1]?.['Last-Event-ID']).toBe(lastSeen);
    // Exactly the missed events, in order: no history, no reset, nothing twice.
    expect(client.received.slice(before)).toEqual(missed);

    // And it goes on receiving live events with ids that keep growing.
    sup.isolate('n2', 'after');
    sup.reinstate('n2', 'after');
    await until(
      () => client.received.length - before,
      (n) => n > missed.length,
      5000,
      'more',
    );
    const seqs = withIds(client.received).map((e) => Number(e.id.split('-').at(-1)));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('answers an id older than the buffer, or from another server, with a reset and the history', async () => {
    fleet = await httpFleet({}, { sseReplay: 3 });
    const { sup, operator } = fleet;
    sup.register({ id: 'n1' });
    const url = await fleet.app.listen({ host: '127.0.0.1', port: 0 });
    const first = await rawStream(url, operator);
    for (let i = 0; i < 3; i++) {
      sup.isolate('n1', `round ${i}`);
      sup.reinstate('n1', `round ${i}`);
    }
    const transitions = () => first.events().filter((e) => e.event === 'transition');
    await until(
      () => transitions().length,
      (n) => n === 6,
      5000,
      'six transitions',
    );
    const ids = first
      .events()
      .map((e) => e.id)
      .filter((id) => id !== '');
    const newest = ids.at(-1) ?? '';
    const threeBack = ids.at(-4) ?? '';
    const fourBack = ids.at(-5) ?? '';

    const resumeFrom = async (lastEventId: string) => {
      const stream = await rawStream(url, { ...operator, 'last-event-id': lastEventId });
      return until(
        () => stream.events(),
        (e) => e.length >= 2,
        5000,
        `the reply to ${lastEventId}`,
      );
    };
    // Three back is still held: exactly those three, no history.
    const held = await resumeFrom(threeBack);
    expect(held.map((e) => e.id)).toEqual(ids.slice(-3));
    // Four back is not: a reset (carrying the newest id, to resume from), then the history.
    for (const [given, reason] of [
      [fourBack, 'evicted'],
      [`0123456789-${newest.split('-')[1]}`, 'unknown'],
      [`${newest}9`, 'unknown'],
      ['nonsense', 'unknown'],
    ] as const) {
      const [reset, history] = await resumeFrom(given);
      expect(reset?.event).toBe('reset');
      expect(reset?.id).toBe(newest);
      expect(JSON.parse(reset?.data ?? '')).toEqual({ reason, lastEventId: given, reload: true });
      expect(history?.event).toBe('history');
    }
  });

  it('sends retry: first and a heartbeat comment every sseHeartbeatMs on the clock', async () => {
    fleet = await httpFleet(
      { tickMs: 60_000, heartbeatTimeoutMs: 120_000 },
      {
        sseRetryMs: 1234,
        sseHeartbeatMs: 5000,
      },
    );
    const url = await fleet.app.listen({ host: '127.0.0.1', port: 0 });
    const { stream } = await rawStream(url, fleet.operator);
    await until(
      () => stream.text,
      (t) => t.includes('event: history'),
      5000,
      'the history',
    );
    expect(stream.text).toMatch(/^: wyneos events\nretry: 1234\n\n/);
    expect(stream.text).not.toContain(': ping');
    fleet.advance(5000);
    await until(
      () => stream.text.split(': ping\n\n').length - 1,
      (n) => n === 1,
      5000,
      'a ping',
    );
    fleet.advance(5000);
    await until(
      () => stream.text.split(': ping\n\n').length - 1,
      (n) => n === 2,
      5000,
      'pings',
    );
  });

  it('refuses a replay buffer, retry or heartbeat below 1 with a coded error', async () => {
    for (const option of ['sseReplay', 'sseRetryMs', 'sseHeartbeatMs']) {
      await expect(httpFleet({}, { [option]: 0 })).rejects.toMatchObject({
        code: 'WYNEOS_ERR_INVALID_ARGUMENT',
        message: expect.stringContaining(option),
      });
    }
  });

  it('keeps --sse-replay events for wyneos serve', async () => {
    const server = await runServe(
      { port: 0, sseReplay: 1, tick: 600_000, heartbeatTimeout: 1_200_000 },
      silentLogger,
    );
    cleanups.push(() => server.shutdown());
    const first = await rawStream(server.url, {});
    const register = (id: string) =>
      fetch(`${server.url}/v1/nodes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id }),
      });
    await register('n1');
    await register('n2');
    const [one, two] = (
      await until(
        () => first.events(),
        (e) => e.length === 3,
        5000,
        'two admissions',
      )
    ).slice(1);
    const held = await rawStream(server.url, { 'last-event-id': one?.id ?? '' });
    await until(
      () => held.events(),
      (e) => e.length === 1,
      5000,
      'the one held',
    );
    expect(held.events()).toEqual([two]);
    const evicted = await rawStream(server.url, { 'last-event-id': '' });
    await until(
      () => evicted.events(),
      (e) => e.length === 1,
      5000,
      'the history',
    );
    const old = await rawStream(server.url, { 'last-event-id': `${one?.id.split('-')[0]}-0` });
    await until(
      () => old.events(),
      (e) => e.length === 2,
      5000,
      'the reset',
    );
    expect(old.events()[0]?.event).toBe('reset');
  });
});

describe('replay buffer', () => {
  it('keeps the broadcast to sseReplay events, however many go by', async () => {
    const { sup, clock } = simulatedSupervisor();
    cleanups.push(() => sup.stop());
    sup.register({ id: 'n1' });
    const limits = {
      maxClients: 1,
      maxBufferedBytes: 1 << 20,
      replayEvents: 50,
      retryMs: 1000,
      heartbeatMs: 15_000,
    };
    const quiet = { sseClients: () => {}, sseDropped: () => {} } as unknown as HttpMetrics;
    const broadcast = new EventBroadcast(sup, limits, quiet, silentLogger, clock);
    cleanups.push(() => broadcast.close());
    let written = 0;
    const client = {
      write: (bytes: Buffer) => {
        written += bytes.byteLength;
        return true;
      },
      on: () => {},
      end: () => {},
      destroyed: false,
      writableLength: 0,
    } as unknown as ServerResponse;
    broadcast.add(client, undefined, () => Buffer.from('event: history\ndata: []\n\n'));
    let largest = 0;
    for (let round = 0; round < 200; round++) {
      sup.isolate('n1', `round ${round}`);
      sup.reinstate('n1', `round ${round}`);
      expect(broadcast.replayed.events).toBeLessThanOrEqual(50);
      largest = Math.max(largest, broadcast.replayed.bytes);
    }
    // Hundreds of events went by; the buffer holds 50 of them, their bytes alone.
    await new Promise((resolve) => setImmediate(resolve));
    expect(written).toBeGreaterThan(8 * largest);
    expect(broadcast.replayed.events).toBe(50);
    expect(largest).toBeLessThan(50 * 1024);
  });

  it('holds at most its capacity, counts their bytes, and gives exactly the events after any id it still holds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 100 }),
        (capacity, sizes) => {
          const buffer = new ReplayBuffer(capacity);
          const events = sizes.map((size, i) => Buffer.alloc(size, i % 256));
          for (const [i, event] of events.entries()) {
            expect(buffer.next).toBe(i + 1);
            buffer.push(event);
          }
          const kept = events.slice(-capacity);
          expect(buffer.size).toBe(kept.length);
          expect(buffer.bytes).toBe(kept.reduce((sum, e) => sum + e.byteLength, 0));
          const oldest = events.length - kept.length + 1;
          for (let seen = -1; seen <= events.length + 1; seen++) {
            const after = buffer.after(seen);
            if (seen < oldest - 1 || seen > events.length) expect(after).toBeUndefined();
            else expect(after).toEqual(events.slice(seen));
          }
        },
      ),
    );
  });
});
