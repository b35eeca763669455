import fc from 'fast-check';
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

  it('answers every numeric query value with a coded 400 naming it, or a valid answer: never a 500, never Infinity', async () => {
    fleet = await httpFleet();
    const { app, operator } = fleet;
    // The value that got through before: Infinity, past the maximum, answered with next: null.
    const infinite = await app.inject({ url: '/v1/actions?since=1e400', headers: operator });
    expect(infinite.statusCode).toBe(400);
    expect(infinite.json().error.message).toBe(
      'Invalid request at ?since: must be a whole number in decimal digits (got "1e400")',
    );
    const hostile = fc.constantFrom(
      '1e400',
      '-1e400',
      'Infinity',
      '-Infinity',
      'NaN',
      '-0',
      '0x10',
      '0b1',
      '0o7',
      '1e3',
      '1.0',
      ' 5',
      '5 ',
      '+5',
      '',
      '9007199254740991',
      '9007199254740992',
      '9'.repeat(400),
      '10000',
      '10001',
      '0',
      '-1',
      '1_000',
      '１２',
    );
    const numeric = fc.oneof(
      hostile,
      fc.bigInt({ min: -(10n ** 20n), max: 10n ** 20n }).map(String),
      fc.double().map(String),
      fc.string({ maxLength: 12 }),
    );
    const query = fc.record({
      url: fc.constantFrom('/v1/actions', '/v1/nodes'),
      name: fc.constantFrom('since', 'limit'),
      value: numeric,
    });
    await fc.assert(
      fc.asyncProperty(query, async ({ url, name, value }) => {
        const answer = await app.inject({
          url: `${url}?${name}=${encodeURIComponent(value)}`,
          headers: operator,
        });
        expect([200, 400]).toContain(answer.statusCode);
        if (answer.statusCode === 400) {
          expect(answer.json().error).toMatchObject({
            code: 'WYNEOS_ERR_INVALID_REQUEST',
            path: `?${name}`,
          });
          return;
        }
        // Accepted: a plain decimal whole number within the parameter's bounds.
        expect(value).toMatch(/^-?[0-9]+$/);
        const number = Number(value);
        expect(Number.isSafeInteger(number)).toBe(true);
        if (name === 'limit') expect(number).toBeGreaterThanOrEqual(1);
        if (name === 'limit') expect(number).toBeLessThanOrEqual(10_000);
        if (name === 'since') expect(number).toBeGreaterThanOrEqual(0);
        if (url === '/v1/actions') expect(Number.isFinite(answer.json().next)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
