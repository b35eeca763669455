import { InvalidArgumentError } from '../errors.js';
import type { Labels } from '../types.js';

/** The faults a simulation can inject. */
export type FaultKind =
  | 'crash'
  | 'recover'
  | 'partition'
  | 'overload'
  | 'flap'
  | 'jitter'
  | 'slowNode'
  | 'bad-heartbeat'
  | 'non-compliant'
  | 'licence-expiry'
  | 'licence-revoke'
  | 'pause';

/** Every {@link FaultKind}, in one place: what a fault's `kind` is checked against. */
export const faultKinds: readonly FaultKind[] = [
  'crash',
  'recover',
  'partition',
  'overload',
  'flap',
  'jitter',
  'slowNode',
  'bad-heartbeat',
  'non-compliant',
  'licence-expiry',
  'licence-revoke',
  'pause',
];

/**
 * Which nodes a fault hits: `nodes` (a count, or ids) or `fraction` of the fleet, picked by the
 * seed. Default: one node.
 */
export interface FaultTargets {
  readonly nodes?: number | readonly string[];
  readonly fraction?: number;
}

/** What every fault has: its targets, and when it starts. */
export interface FaultStart extends FaultTargets {
  /** When the fault starts, in ms of simulated time from the start of the run. */
  readonly at: number;
}

/** A fault to inject: what, to whom, when, and its parameters (every one has a default). */
export type Fault =
  /** Heartbeats stop (the process died); with `durationMs`, it restarts after that long. */
  | (FaultStart & { readonly kind: 'crash'; readonly durationMs?: number })
  /** Crashed nodes among the targets start beating again (all crashed nodes without targets). */
  | (FaultStart & { readonly kind: 'recover' })
  /** The targets' heartbeats are lost for `durationMs`, then get through again. */
  | (FaultStart & { readonly kind: 'partition'; readonly durationMs: number })
  /** Load ramps from normal to `peak` (default 0.98) over `rampMs`, holds, ramps down. */
  | (FaultStart & {
      readonly kind: 'overload';
      readonly durationMs: number;
      readonly peak?: number;
      readonly rampMs?: number;
    })
  /** Heartbeats go and come: `upMs` beating, `downMs` silent, for `durationMs`. */
  | (FaultStart & {
      readonly kind: 'flap';
      readonly durationMs: number;
      readonly upMs?: number;
      readonly downMs?: number;
    })
  /** Heartbeats are delayed by up to `maxDelayMs` and a `lossRate` share of them is lost. */
  | (FaultStart & {
      readonly kind: 'jitter';
      readonly durationMs: number;
      readonly maxDelayMs?: number;
      readonly lossRate?: number;
    })
  /** The node beats `factor` times more slowly (a paused or starved process). */
  | (FaultStart & {
      readonly kind: 'slowNode';
      readonly durationMs: number;
      readonly factor?: number;
    })
  /** The node sends malformed heartbeats (out-of-range load, bad seq, junk metrics). */
  | (FaultStart & { readonly kind: 'bad-heartbeat'; readonly durationMs: number })
  /** The node is redeployed with a `version` and `labels` that break the policy. */
  | (FaultStart & {
      readonly kind: 'non-compliant';
      readonly version?: string;
      readonly labels?: Labels;
    })
  /**
   * The node's licence lapses: it renews to one that expires `lapseMs` later (default one
   * tick) and never renews again. The fleet runs with licensing when any licence fault is given.
   */
  | (FaultStart & { readonly kind: 'licence-expiry'; readonly lapseMs?: number })
  /** The node's licence is revoked (`supervisor.revoke`). */
  | (FaultStart & { readonly kind: 'licence-revoke' })
  /**
   * The supervisor itself stops for `durationMs` (a long GC pause, SIGSTOP): no tick runs and
   * heartbeats wait in its socket; then one tick comes late and the waiting heartbeats are read
   * after it. Targets are ignored. A supervisor should ride it out: nobody goes offline for it.
   */
  | (FaultStart & { readonly kind: 'pause'; readonly durationMs: number });

/** What the supervisor should do about a fault: the ground truth detection is judged by. */
export type Expectation =
  | 'offline'
  | 'overloaded'
  | 'rejected'
  | 'non-compliant'
  | 'online'
  /** Gated: isolated for its licence. */
  | 'gated'
  /** Nothing: a well-tuned supervisor rides it out (some jitter, a short blip). */
  | 'tolerated';

/** The parts of the supervisor's configuration that decide what a fault should lead to. */
export interface DetectionTerms {
  readonly tickMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly overload: { readonly high: number; readonly ticks: number };
}

/** A fault with every default filled in. */
export type ResolvedFault = Fault & { readonly endAt: number; readonly expect: Expectation };

/** Fills in a fault's defaults and says what it should lead to; throws on a bad parameter. */
export function resolveFault(fault: Fault, index: number, terms: DetectionTerms): ResolvedFault {
  const where = `faults[${index}]`;
  checkFault(fault, where);
  const { heartbeatTimeoutMs: timeout, heartbeatIntervalMs: interval, tickMs } = terms;
  // A silence this long is declared offline whatever the phase of the last heartbeat before it.
  const surelySilent = timeout + interval + tickMs;
  switch (fault.kind) {
    case 'crash':
      return { ...fault, endAt: fault.at + (fault.durationMs ?? Infinity), expect: 'offline' };
    case 'recover':
      return { ...fault, endAt: fault.at, expect: 'online' };
    case 'partition': {
      const expect = fault.durationMs >= surelySilent ? 'offline' : 'tolerated';
      return { ...fault, endAt: fault.at + fault.durationMs, expect };
    }
    case 'overload': {
      const peak = fault.peak ?? 0.98;
      const rampMs = fault.rampMs ?? Math.min(fault.durationMs / 4, 10 * tickMs);
      const overMs = fault.durationMs - 2 * rampMs;
      const long = overMs >= (terms.overload.ticks + 1) * tickMs + interval;
      const expect = peak >= terms.overload.high && long ? 'overloaded' : 'tolerated';
      return { ...fault, peak, rampMs, endAt: fault.at + fault.durationMs, expect };
    }
    case 'flap': {
      const upMs = fault.upMs ?? 2 * timeout;
      const downMs = fault.downMs ?? 2 * timeout;
      const expect = downMs >= surelySilent ? 'offline' : 'tolerated';
      return { ...fault, upMs, downMs, endAt: fault.at + fault.durationMs, expect };
    }
    case 'jitter':
      return {
        ...fault,
        maxDelayMs: fault.maxDelayMs ?? Math.round(timeout / 4),
        lossRate: fault.lossRate ?? 0.05,
        endAt: fault.at + fault.durationMs,
        expect: 'tolerated',
      };
    case 'slowNode': {
      const factor = fault.factor ?? 2.5;
      const expect = interval * factor >= timeout + tickMs ? 'offline' : 'tolerated';
      return { ...fault, factor, endAt: fault.at + fault.durationMs, expect };
    }
    case 'bad-heartbeat':
      return { ...fault, endAt: fault.at + fault.durationMs, expect: 'rejected' };
    case 'licence-expiry':
      return { ...fault, lapseMs: fault.lapseMs ?? tickMs, endAt: Infinity, expect: 'gated' };
    case 'licence-revoke':
      return { ...fault, endAt: Infinity, expect: 'gated' };
    case 'pause':
      return { ...fault, endAt: fault.at + fault.durationMs, expect: 'tolerated' };
    case 'non-compliant':
      return {
        ...fault,
        version: fault.version ?? '0.1.0',
        endAt: Infinity,
        expect: 'non-compliant',
      };
  }
}

function checkFault(fault: Fault, where: string): void {
  if (typeof fault !== 'object' || fault === null) {
    throw new InvalidArgumentError(where, 'must be an object with a kind');
  }
  if (!faultKinds.includes(fault.kind)) {
    throw new InvalidArgumentError(
      `${where}.kind`,
      `${JSON.stringify(fault.kind)} is not one of ${faultKinds.join(', ')}`,
    );
  }
  atLeast(fault.at, 0, `${where}.at`);
  if (fault.nodes !== undefined && fault.fraction !== undefined) {
    throw new InvalidArgumentError(where, 'give nodes or fraction, not both');
  }
  if (typeof fault.nodes === 'number') atLeast(fault.nodes, 1, `${where}.nodes`, true);
  if (fault.fraction !== undefined) between(fault.fraction, 0, 1, `${where}.fraction`);
  if ('durationMs' in fault && fault.durationMs !== undefined) {
    atLeast(fault.durationMs, 1, `${where}.durationMs`);
  } else if (
    !['crash', 'recover', 'non-compliant', 'licence-expiry', 'licence-revoke'].includes(fault.kind)
  ) {
    throw new InvalidArgumentError(`${where}.durationMs`, `a ${fault.kind} fault needs a duration`);
  }
  const numbers: Array<[string, number | undefined, number, number]> = [];
  if (fault.kind === 'overload') {
    numbers.push(['peak', fault.peak, 0, 1], ['rampMs', fault.rampMs, 0, fault.durationMs / 2]);
  }
  if (fault.kind === 'flap') {
    numbers.push(['upMs', fault.upMs, 1, Infinity], ['downMs', fault.downMs, 1, Infinity]);
  }
  if (fault.kind === 'jitter') {
    numbers.push(['maxDelayMs', fault.maxDelayMs, 0, Infinity], ['lossRate', fault.lossRate, 0, 1]);
  }
  if (fault.kind === 'slowNode') numbers.push(['factor', fault.factor, 1, 1000]);
  if (fault.kind === 'licence-expiry') numbers.push(['lapseMs', fault.lapseMs, 0, Infinity]);
  for (const [name, value, min, max] of numbers) {
    if (value !== undefined) between(value, min, max, `${where}.${name}`);
  }
}

function atLeast(value: number, min: number, where: string, integer = false): void {
  if (typeof value !== 'number' || !(value >= min) || (integer && !Number.isInteger(value))) {
    throw new InvalidArgumentError(
      where,
      `must be ${integer ? 'a whole number' : 'a number'} of at least ${min} (got ${String(value)})`,
    );
  }
}

function between(value: number, min: number, max: number, where: string): void {
  if (typeof value !== 'number' || !(value >= min && value <= max)) {
    throw new InvalidArgumentError(
      where,
      `must be a number from ${min} to ${max} (got ${String(value)})`,
    );
  }
}
