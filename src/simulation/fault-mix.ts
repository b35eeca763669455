import { parseDuration } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import { type Fault, type FaultKind, faultKinds } from './faults.js';
import type { SeededRandom } from './random.js';

/**
 * One entry of a fault mix, the command line's short way to say which faults to inject:
 * `kind=share` picks that share of the fleet, each node hit at its own random time;
 * `kind=share@start+duration` hits that share at once, at `start`, for `duration`.
 */
export interface FaultMixEntry {
  readonly kind: FaultKind;
  readonly share: number;
  readonly at?: number;
  readonly durationMs?: number;
}

/** How long a fault lasts when the mix does not say, by kind; crashes last to the end. */
const defaultDurationMs: Partial<Record<FaultKind, number>> = {
  partition: 60_000,
  overload: 120_000,
  flap: 180_000,
  jitter: 600_000,
  slowNode: 300_000,
  'bad-heartbeat': 60_000,
  pause: 5_000,
};

/** Parses `crash=0.02,overload=0.05,partition=0.6@30m+2m`. Throws InvalidArgumentError. */
export function parseFaultMix(text: string): FaultMixEntry[] {
  if (text.trim() === '') return [];
  return text.split(',').map((part, i) => {
    const where = `--faults entry ${i + 1} (${JSON.stringify(part.trim())})`;
    const match = /^([a-zA-Z-]+)=([0-9.]+)(?:@([0-9a-z.]+))?(?:\+([0-9a-z.]+))?$/.exec(part.trim());
    if (match === null) {
      throw new InvalidArgumentError(
        where,
        'expected kind=share[@start][+duration], like partition=0.6@30m+2m',
      );
    }
    const [, kind, share, at, duration] = match as unknown as [
      string,
      string,
      string,
      string?,
      string?,
    ];
    if (!faultKinds.includes(kind as FaultKind)) {
      throw new InvalidArgumentError(where, `unknown fault kind; one of ${faultKinds.join(', ')}`);
    }
    const fraction = Number(share);
    if (!(fraction >= 0 && fraction <= 1)) {
      throw new InvalidArgumentError(where, 'the share of the fleet must be a number from 0 to 1');
    }
    return {
      kind: kind as FaultKind,
      share: fraction,
      ...(at === undefined ? {} : { at: parseDuration(at, `${where} start`) }),
      ...(duration === undefined
        ? {}
        : { durationMs: parseDuration(duration, `${where} duration`) }),
    };
  });
}

/**
 * Turns a mix into faults for a fleet and a run length. Entries without a start hit their
 * share of nodes one by one, each at a random time in the first 80% of the run (so there is
 * time to see what happened); the seed decides who and when.
 */
export function expandFaultMix(
  entries: readonly FaultMixEntry[],
  fleet: { readonly nodeIds: readonly string[]; readonly durationMs: number },
  random: SeededRandom,
): Fault[] {
  const faults: Fault[] = [];
  for (const entry of entries) {
    const durationMs = entry.durationMs ?? defaultDurationMs[entry.kind];
    const timed = durationMs === undefined ? {} : { durationMs };
    if (entry.at !== undefined) {
      faults.push({ kind: entry.kind, at: entry.at, fraction: entry.share, ...timed } as Fault);
      continue;
    }
    const count = Math.round(entry.share * fleet.nodeIds.length);
    const latest = Math.max(1, Math.floor(fleet.durationMs * 0.8));
    for (const nodeId of random.sample(fleet.nodeIds, count)) {
      const at = random.int(0, latest - 1);
      faults.push({ kind: entry.kind, at, nodes: [nodeId], ...timed } as Fault);
    }
  }
  return faults.sort((a, b) => a.at - b.at);
}
