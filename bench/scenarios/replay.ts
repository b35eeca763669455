import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { replayTrace } from '../../src/exports/testing.js';
import { maxLoad, requiredLabels } from '../../src/governance/index.js';
import { TraceRecorder } from '../../src/replay/index.js';
import type { ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';

const nodeCount = scaled(1_000, 100);
const hourMs = Number(process.env.REPLAY_MS ?? scaled(3_600_000, 300_000));
const budgetS = 10;

/**
 * One hour of a 1,000-node fleet (a heartbeat per node per second, 3.6 M entries; a few nodes
 * run hot) replayed under a policy and a baseline: wall time of `replayTrace`, budgeted at 10 s.
 * The trace is written beforehand by the recorder itself; writing it is not timed.
 */
export async function replay(): Promise<ScenarioResult> {
  const dir = process.env.REPLAY_KEEP ?? mkdtempSync(join(tmpdir(), 'wyneos-bench-replay-'));
  try {
    await writeTrace(dir);
    const { policy, baseline } = replayPolicies();
    const started = performance.now();
    const result = await replayTrace(dir, { policy, baseline });
    const seconds = (performance.now() - started) / 1000;
    const entries = result.trace.entries;
    const ms = seconds * 1000;
    return {
      name: 'replay',
      ratioOf: 'seconds to replay one hour of 1,000 nodes under two policies',
      figures: [
        {
          label: `replayTrace, ${nodeCount} nodes × ${hourMs / 60_000} min (${entries} entries)`,
          unit: 'ms',
          mean: ms,
          p50: ms,
          p99: ms,
          rme: 0,
          samples: 1,
          evaluations: entries,
          evaluationsPerSecond: entries / seconds,
        },
      ],
      ratio: seconds,
      budget: { kind: 'at most', value: budgetS },
      meets: seconds <= budgetS,
      derived: [
        { label: 'differences found', value: result.differences.length, unit: '' },
        { label: 'entries replayed per second', value: entries / seconds, unit: '/s' },
      ],
    };
  } finally {
    if (process.env.REPLAY_KEEP === undefined) rmSync(dir, { recursive: true, force: true });
  }
}

/** The policy under test (three rules) and its baseline (the first two). */
export function replayPolicies() {
  const policy = {
    version: 'new',
    rules: [
      maxLoad(0.95, { enforcement: 'reduce-load' }),
      requiredLabels(['region'], { enforcement: 'warn' }),
      {
        id: 'cool',
        description: 'load under 0.8',
        enforcement: 'isolate' as const,
        evaluate: (node: { load: number }) => node.load < 0.8,
      },
    ],
  };
  return { policy, baseline: { version: 'old', rules: policy.rules.slice(0, 2) } };
}

async function writeTrace(dir: string): Promise<void> {
  const recorder = new TraceRecorder(
    { dir },
    { tickMs: 1000, heartbeatTimeoutMs: 3000 },
    pino({ level: 'silent' }),
    // Unbounded queue: the loop below outruns the disk, and a bounded one stopped the trace
    // short of the hour (the recording stops, silently here, at a million queued entries).
    { flushMs: 200, flushEntries: 50_000, maxQueued: Number.POSITIVE_INFINITY },
  );
  const ids = Array.from({ length: nodeCount }, (_, i) => `node-${String(i).padStart(4, '0')}`);
  recorder.register(
    ids.map((id, i) => ({ id, labels: { region: i % 2 ? 'eu' : 'us' }, version: '1.4.2' })),
    0,
  );
  let x = 11;
  for (let second = 1; second * 1000 <= hourMs; second++) {
    for (let i = 0; i < ids.length; i++) {
      x = (x * 48271) % 2147483647;
      // One node in fifty runs hot for a while each ten minutes.
      const hot = i % 50 === 0 && second % 600 > 300 && second % 600 < 330;
      const load = hot ? 0.85 : 0.2 + (x % 500) / 1000;
      recorder.heartbeat(
        { nodeId: ids[i] as string, seq: second, load },
        second * 1000 + (i % 997),
      );
    }
    if (second % 60 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await recorder.close();
}
