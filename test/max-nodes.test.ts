import { afterEach, describe, expect, it } from 'vitest';
import { FleetFullError, InvalidOptionsError, type WyneosError } from 'wyneos';
import { collect, httpFleet, simulatedSupervisor } from './helpers.js';

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

function thrown(run: () => unknown): WyneosError {
  try {
    run();
  } catch (error) {
    return error as WyneosError;
  }
  throw new Error('expected a throw');
}

describe('maxNodes', () => {
  it('refuses a registration past the cap with FleetFullError, and changes nothing', () => {
    const { sup } = simulatedSupervisor({ maxNodes: 2 });
    sup.registerMany([{ id: 'a' }, { id: 'b' }]);
    const admissions = collect(sup.admissions$);
    const before = sup.nodes();

    const error = thrown(() => sup.register({ id: 'c' }));
    expect(error).toBeInstanceOf(FleetFullError);
    expect(error).toMatchObject({ code: 'WYNEOS_ERR_FLEET_FULL', maxNodes: 2, requested: 1 });
    expect(sup.nodes()).toEqual(before);
    expect(admissions).toEqual([]);

    // Room again once a node leaves.
    sup.deregister('a');
    expect(sup.register({ id: 'c' }).id).toBe('c');
  });

  it('registers none of a batch that would pass the cap', () => {
    const { sup } = simulatedSupervisor({ maxNodes: 3 });
    sup.register({ id: 'a' });
    expect(() => sup.registerMany([{ id: 'b' }, { id: 'c' }, { id: 'd' }])).toThrow(
      /Fleet full: 1 of at most 3 nodes are registered, no room for 3 more/,
    );
    expect(sup.nodes().map((n) => n.id)).toEqual(['a']);
    sup.registerMany([{ id: 'b' }, { id: 'c' }]);
    expect(sup.nodes()).toHaveLength(3);
  });

  it('takes a positive integer, or nothing for no cap', () => {
    for (const bad of [0, -1, 1.5, Number.POSITIVE_INFINITY, '10']) {
      expect(() => simulatedSupervisor({ maxNodes: bad as number })).toThrow(InvalidOptionsError);
    }
    const { sup } = simulatedSupervisor();
    sup.registerMany(Array.from({ length: 300 }, (_, i) => ({ id: `n${i}` })));
    expect(sup.nodes()).toHaveLength(300);
  });

  it('answers a registration past the cap over HTTP with 503 WYNEOS_ERR_FLEET_FULL', async () => {
    fleet = await httpFleet({ maxNodes: 1 });
    const post = (id: string) =>
      fleet?.app.inject({
        method: 'POST',
        url: '/v1/nodes',
        headers: fleet.operator,
        payload: { id },
      });
    expect((await post('a'))?.statusCode).toBe(201);
    const refused = await post('b');
    expect(refused?.statusCode).toBe(503);
    expect(refused?.json().error).toMatchObject({ code: 'WYNEOS_ERR_FLEET_FULL' });
    expect(fleet.sup.nodes().map((n) => n.id)).toEqual(['a']);
  });
});
