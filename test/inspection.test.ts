import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createInspectionLog, type InspectionRecord } from 'wyneos';
import { simulatedSupervisor } from './helpers.js';

describe('inspection', () => {
  it('writes every inspection event as a JSON line, node lifecycles included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'wyneos-inspect-'));
    const file = join(dir, 'inspect.jsonl');
    const log = createInspectionLog(file);
    const { sup, advance } = simulatedSupervisor({ inspect: log.inspect });
    sup.registerMany(Array.from({ length: 30 }, (_, i) => ({ id: `n${i}` })));
    sup.isolate('n3', 'maintenance');
    advance(5000);
    await sup.stop();
    await log.close();

    const records = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as InspectionRecord);
    const types = new Set(records.map((r) => r.type));
    for (const type of ['@xstate.actor', '@xstate.event', '@xstate.snapshot'])
      expect(types).toContain(type);
    // The node actor's own story: the ISOLATE event, then its snapshot in the isolated state.
    expect(records).toContainEqual(
      expect.objectContaining({
        type: '@xstate.event',
        actorId: 'n3',
        sourceId: 'supervisor',
        event: expect.objectContaining({ type: 'ISOLATE', reason: 'maintenance' }),
      }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({
        type: '@xstate.snapshot',
        actorId: 'n3',
        snapshot: expect.objectContaining({
          value: 'isolated',
          context: expect.objectContaining({ reason: 'maintenance', isolations: 1 }),
        }),
      }),
    );
    // Big data is cut: the supervisor's snapshot carries no context, a fleet snapshot of 30
    // nodes in an event at most 20 of them.
    const supervisorSnapshot = records.find(
      (r) => r.type === '@xstate.snapshot' && r.actorId === 'supervisor',
    );
    expect(supervisorSnapshot?.snapshot).not.toHaveProperty('context');
    const evaluate = records.find(
      (r) => r.type === '@xstate.event' && (r.event as { type?: string }).type === 'EVALUATE',
    );
    const evaluated = evaluate?.event as { snapshot: { nodes: unknown } } | undefined;
    expect(evaluated?.snapshot.nodes).toMatchObject({
      length: 30,
    });
  });
});
