import { afterEach, describe, expect, it } from 'vitest';
import { httpFleet } from './helpers.js';

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

describe('http limits', () => {
  it('counts stale heartbeats against the rate limit: a flood of replays gets 429', async () => {
    fleet = await httpFleet({}, { heartbeatRate: { perSecond: 1, burst: 3 } });
    const { app, node, sup, clock } = fleet;
    sup.register({ id: 'n1' });
    const send = (seq: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/heartbeats',
        headers: node('n1'),
        payload: { nodeId: 'n1', seq, load: 0.2 },
      });
    expect((await send(10)).statusCode).toBe(200);
    expect((await send(10)).statusCode).toBe(409);
    expect((await send(9)).statusCode).toBe(409);
    // Three tokens spent, one accepted and two refused: the replays are now turned away cheaply.
    const limited = await send(8);
    expect(limited.statusCode).toBe(429);
    expect(limited.json().error.code).toBe('WYNEOS_ERR_RATE_LIMITED');
    expect(limited.headers['retry-after']).toBe('1');
    // And so is the node's next real beat, until a token comes back.
    expect((await send(11)).statusCode).toBe(429);
    clock.increment(1000);
    expect((await send(11)).statusCode).toBe(200);
    expect(sup.node('n1')?.seq).toBe(11);
  });
});
