import { describe, expect, it } from 'vitest';
import { type ActionRecord, commandHook, defineRule } from 'wyneos';
import { collect, simulatedSupervisor } from './helpers.js';

/** Lets settled promises run their callbacks; no time passes. */
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

const steps = (records: ActionRecord[]) =>
  records.map((r) => `${r.type}:${r.nodeId}:${r.status}${r.heldBy ? `:${r.heldBy}` : ''}`);

describe('actions', () => {
  it('marks an action applied when its hook succeeds, with the hook’s output', async () => {
    const seen: string[] = [];
    const f = simulatedSupervisor({
      onAction: {
        isolate: async (action) => {
          seen.push(action.nodeId);
          return { drained: true };
        },
      },
    });
    const records = collect<ActionRecord>(f.sup.actions$);
    f.sup.register({ id: 'a' });
    f.sup.isolate('a', 'maintenance');
    expect(steps(records)).toEqual(['isolate:a:proposed']);
    await flush();
    expect(seen).toEqual(['a']);
    expect(records.at(-1)).toMatchObject({
      status: 'applied',
      output: { drained: true },
      attempts: 1,
      id: records[0]?.id,
    });
  });

  it('retries a failing hook and then marks the action failed, naming the error', async () => {
    let calls = 0;
    const f = simulatedSupervisor({
      onAction: {
        isolate: () => {
          calls++;
          throw new Error('drain endpoint down');
        },
      },
      hooks: { retries: 2, backoffMs: 100 },
    });
    const records = collect<ActionRecord>(f.sup.actions$);
    f.sup.register({ id: 'a' });
    f.sup.isolate('a');
    for (let i = 0; i < 10; i++) {
      await flush();
      f.clock.increment(100);
    }
    expect(calls).toBe(3);
    expect(records.at(-1)).toMatchObject({
      status: 'failed',
      attempts: 3,
      error: 'drain endpoint down',
    });
    // The lifecycle decision stands: the node is isolated whatever the hook did.
    expect(f.sup.node('a')?.state).toBe('isolated');
  });

  it('proposes recover actions for nodes that go offline only when a hook carries them out', async () => {
    const without = simulatedSupervisor();
    const withoutRecords = collect<ActionRecord>(without.sup.actions$);
    without.sup.register({ id: 'a' });
    without.advance(3000);
    expect(withoutRecords).toEqual([]);

    const recovered: string[] = [];
    const f = simulatedSupervisor({ onAction: { recover: (a) => void recovered.push(a.nodeId) } });
    const records = collect<ActionRecord>(f.sup.actions$);
    f.sup.register({ id: 'a' });
    f.advance(3000);
    await flush();
    expect(steps(records)).toEqual(['recover:a:proposed', 'recover:a:applied']);
    expect(recovered).toEqual(['a']);
  });

  it('propagates every isolation and reinstatement when a propagate hook is set', async () => {
    const told: string[] = [];
    const f = simulatedSupervisor({
      onAction: { propagate: (a) => void told.push(`${a.nodeId} ${a.reason}`) },
    });
    f.sup.register({ id: 'a' });
    f.sup.isolate('a', 'maintenance');
    f.sup.reinstate('a', 'done');
    await flush();
    expect(told).toEqual(['a isolate: maintenance', 'a reinstate: done']);
  });

  it('isolates through governance and runs the command hook with the node id', async () => {
    const f = simulatedSupervisor({
      rules: [
        defineRule({
          id: 'no-bad',
          description: 'not bad',
          enforcement: 'isolate',
          evaluate: (n) => n.metrics.bad !== 1,
        }),
      ],
      onAction: {
        isolate: commandHook({
          command: process.execPath,
          args: [
            '-e',
            "process.stdout.write('drained ' + process.env.WYNEOS_NODE_ID + ' for ' + process.env.WYNEOS_RULE_ID)",
          ],
        }),
      },
    });
    const records = collect<ActionRecord>(f.sup.actions$);
    f.sup.register({ id: 'gpu-7' });
    f.sup.heartbeat({ nodeId: 'gpu-7', seq: 1, load: 0.1, metrics: { bad: 1 } });
    f.advance(1000);
    await f.sup.stop();
    expect(records.at(-1)).toMatchObject({
      status: 'applied',
      origin: 'governance',
      output: { exitCode: 0, stdout: 'drained gpu-7 for no-bad' },
    });
  });

  it('rejects a hook that is not a function, and an unknown action type', () => {
    expect(() => simulatedSupervisor({ onAction: { isolate: 'drain.sh' as never } })).toThrow(
      /onAction.isolate/,
    );
    expect(() => simulatedSupervisor({ onAction: { restart: () => {} } as never })).toThrow(
      /onAction.restart/,
    );
  });
});
