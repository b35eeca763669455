import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError, InvalidHeartbeatError, InvalidNodeError } from 'wyneos';
import { httpFleet, simulatedSupervisor } from './helpers.js';

// A JSON body's "\ud800" decodes to a lone surrogate: text no UTF-8 can hold, which breaks
// whatever later writes it out (logs, NATS subjects, the audit log's readers).

type Fleet = Awaited<ReturnType<typeof httpFleet>>;
let fleet: Fleet | undefined;
afterEach(async () => {
  await fleet?.close();
  fleet = undefined;
});

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('well-formed Unicode', () => {
  it('refuses a heartbeat whose metric name or node id holds a lone surrogate, naming the field', () => {
    const { sup } = simulatedSupervisor();
    sup.register({ id: 'n1' });
    const before = sup.nodes();
    // The counterexample fast-check found before the fix (test/heartbeat.property.test.ts).
    const metric = thrown(() =>
      sup.heartbeat({ nodeId: 'n1', seq: 0, load: 0, metrics: { '\ud800': 0 } }),
    );
    expect(metric).toBeInstanceOf(InvalidHeartbeatError);
    expect(metric).toMatchObject({ path: '/metrics/\ud800' });
    expect((metric as Error).message).toMatch(/well-formed Unicode/);
    const id = thrown(() => sup.heartbeat({ nodeId: 'n1\udc00', seq: 1, load: 0 }));
    expect(id).toMatchObject({ code: 'WYNEOS_ERR_INVALID_HEARTBEAT', path: '/nodeId' });
    expect(sup.nodes()).toEqual(before);
    // Pairs are fine: an emoji is one code point.
    sup.heartbeat({ nodeId: 'n1', seq: 2, load: 0, metrics: { '😀': 1 } });
    expect(sup.node('n1')?.metrics).toEqual({ '😀': 1 });
  });

  it('refuses a registration whose label value holds a lone surrogate, and a licence id with one', () => {
    const { sup } = simulatedSupervisor();
    const label = thrown(() => sup.register({ id: 'n1', labels: { zone: 'eu\ud83d' } }));
    expect(label).toBeInstanceOf(InvalidNodeError);
    expect(label).toMatchObject({ path: '/labels/zone' });
    expect(sup.nodes()).toEqual([]);
    expect(() => sup.revoke('lic-\udfff', 'stolen')).toThrow(InvalidArgumentError);
    expect(sup.revocations()).toEqual([]);
  });

  it('answers lone surrogates in JSON bodies with a coded 400 naming the field', async () => {
    fleet = await httpFleet();
    const { app, operator, sup } = fleet;
    sup.register({ id: 'n1' });
    const post = (url: string, body: string) =>
      app.inject({
        method: 'POST',
        url,
        headers: { ...operator, 'content-type': 'application/json' },
        payload: body,
      });
    // Written as JSON text, escapes and all, as a client would send it.
    const beat = await post(
      '/v1/heartbeats',
      '{"nodeId":"n1","seq":1,"load":0,"metrics":{"a\\ud800":1}}',
    );
    expect(beat.statusCode).toBe(400);
    expect(beat.json().error).toMatchObject({
      code: 'WYNEOS_ERR_INVALID_HEARTBEAT',
      path: '/metrics/a\ud800',
    });
    const batch = await post(
      '/v1/heartbeats',
      '[{"nodeId":"n1","seq":1,"load":0},{"nodeId":"\\udc00","seq":1,"load":0}]',
    );
    expect(batch.statusCode).toBe(400);
    expect(batch.json().error).toMatchObject({ path: '/1/nodeId' });
    const node = await post('/v1/nodes', '{"id":"n2","labels":{"zone":"\\ud800"}}');
    expect(node.statusCode).toBe(400);
    expect(node.json().error).toMatchObject({
      code: 'WYNEOS_ERR_INVALID_NODE',
      path: '/labels/zone',
    });
    expect(sup.nodes().map((n) => [n.id, n.seq])).toEqual([['n1', undefined]]);
  });
});
