import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fleetAt, generateFleet } from '../fleet.js';
import type { Figure, ScenarioResult } from '../measure.js';
import { scaled } from '../mode.js';
import { mainThreadCpuSeconds } from '../process-stats.js';
import { ManualClock, reusableBeats, wyneosFleet } from '../supervised-fleet.js';

const nodeCount = scaled(100_000, 2_000);
const rounds = scaled(20, 2);
const trials = scaled(3, 1);
const budget = 0.9;

/**
 * Heartbeat ingest with `record` on, beside the same ingest without, in one run: 100,000 nodes
 * with the four metrics, `rounds` heartbeats per node, the event loop free between rounds (as
 * under real traffic). Budgeted: the ingest loops' throughput (what the event loop pays,
 * serialising the batches included), at least 90% of it without recording. Reported beside it:
 * the sustained rate until every batch is compressed (on the thread pool) and on disk.
 */
export async function recordOverhead(): Promise<ScenarioResult> {
  const nodes = generateFleet(nodeCount);
  const plain: Ingest[] = [];
  const recorded: Ingest[] = [];
  for (let trial = 0; trial < trials; trial++) {
    plain.push(await ingest(nodes, false));
    recorded.push(await ingest(nodes, true));
  }
  const [a, b] = [median(plain.map((r) => r.loop)), median(recorded.map((r) => r.loop))];
  const [wallA, wallB] = [median(plain.map((r) => r.wall)), median(recorded.map((r) => r.wall))];
  const [cpuA, cpuB] = [median(plain.map((r) => r.cpu)), median(recorded.map((r) => r.cpu))];
  const ratio = b / a;
  return {
    name: 'record-overhead',
    ratioOf: 'heartbeats/s with record / without',
    figures: [
      figure('sup.heartbeat, 100,000 nodes, not recording', a),
      figure('sup.heartbeat, 100,000 nodes, recording (gzip, batched)', b),
    ],
    ratio,
    budget: { kind: 'at least', value: budget },
    meets: ratio >= budget,
    derived: [
      {
        label: 'main-thread cost of recording per heartbeat',
        value: (1 / b - 1 / a) * 1e9,
        unit: 'ns',
      },
      {
        // The main thread's CPU time alone: on a shared machine, free of what neighbours took.
        label: 'by main-thread CPU time (Linux): with / without',
        value: cpuB / cpuA,
        unit: '×',
      },
      {
        label: 'sustained, until every batch is on disk: with / without',
        value: wallB / wallA,
        unit: '×',
      },
      { label: 'sustained heartbeats/s with record', value: wallB, unit: '/s' },
      { label: 'sustained heartbeats/s without', value: wallA, unit: '/s' },
    ],
  };
}

interface Ingest {
  /** Heartbeats/s of the ingest loops alone: what the event loop pays. */
  readonly loop: number;
  /** Heartbeats/s from the first heartbeat until the last batch is on disk. */
  readonly wall: number;
  /** Heartbeats/s of the ingest loops by the main thread's CPU time. */
  readonly cpu: number;
}

async function ingest(nodes: ReturnType<typeof generateFleet>, record: boolean): Promise<Ingest> {
  const dir = mkdtempSync(join(tmpdir(), 'wyneos-bench-record-'));
  const clock = new ManualClock(fleetAt);
  const sup = wyneosFleet(nodes, clock, record ? { record: { dir } } : {});
  const beats = reusableBeats(nodes, true);
  const started = performance.now();
  let looping = 0;
  let cpu = 0;
  for (let seq = 1; seq <= rounds; seq++) {
    const cpuAt = mainThreadCpuSeconds();
    const round = performance.now();
    for (const beat of beats) {
      beat.seq = seq;
      sup.heartbeat(beat);
    }
    looping += performance.now() - round;
    cpu += mainThreadCpuSeconds() - cpuAt;
    clock.at += 1000;
    // A second between rounds in a real fleet; here the time the writes need, or a turn.
    await new Promise((resolve) => setImmediate(resolve));
  }
  await sup.stop();
  const wall = (performance.now() - started) / 1000;
  rmSync(dir, { recursive: true, force: true });
  const count = rounds * nodes.length;
  return { loop: count / (looping / 1000), wall: count / wall, cpu: count / cpu };
}

function figure(label: string, perSecond: number): Figure {
  const ms = (nodeCount / perSecond) * 1000;
  return {
    label,
    unit: 'ms',
    mean: ms,
    p50: ms,
    p99: ms,
    rme: 0,
    samples: trials,
    evaluations: nodeCount,
    evaluationsPerSecond: perSecond,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
}
