import type { NodeActorRef } from '../../machines/supervisor.machine.js';
import type { Clock } from '../clock.js';
import {
  BatchRefusedError,
  ForbiddenError,
  InvalidArgumentError,
  InvalidHeartbeatError,
  RateLimitedError,
  StaleHeartbeatError,
  SupervisorStoppedError,
  UnknownNodeError,
  type WyneosError,
} from '../errors.js';
import type { NodeLicence } from '../licensing/index.js';
import {
  type Heartbeat,
  heartbeatProblem,
  type NodeRecord,
  type TelemetryStore,
} from '../telemetry/index.js';
import type { TrustBook } from '../trust/index.js';
import { type HeartbeatRate, rateTake, rateWaitMs } from './heartbeat-rate.js';
import type { HeartbeatBatchOptions, HeartbeatResult } from './types.js';

/** What the heartbeat path needs of the supervisor it belongs to. */
export interface HeartbeatPathDeps {
  readonly store: TelemetryStore<NodeActorRef>;
  readonly trust: TrustBook;
  readonly clock: Clock;
  readonly boot: number;
  /** The supervisor's own rate: for calls that name none. Undefined: unlimited. */
  readonly rate: HeartbeatRate | undefined;
  /** The node's licence view, or undefined without licensing (not called then). */
  readonly licence: ((nodeId: string, at: number) => NodeLicence | undefined) | undefined;
  readonly stopped: () => boolean;
  /** Told of every heartbeat taken, with its node's record (the trace recorder), or undefined. */
  readonly taken?: ((beat: Heartbeat, at: number, record: NodeRecord) => void) | undefined;
}

const noOptions: HeartbeatBatchOptions = {};

/**
 * The one way a heartbeat comes in, whoever carries it (in-process, HTTP, NATS): validation,
 * impersonation, unknown nodes, the rate limit, stale and resync checks, and what a refusal
 * costs the node's trust are all decided here, once per heartbeat. A refused heartbeat is a
 * result, not a throw; only misuse throws.
 */
export function heartbeatPath(deps: HeartbeatPathDeps) {
  const { store, trust, clock, boot, licence } = deps;
  // One answer for every heartbeat `heartbeat` accepts: nothing allocated on the hot path.
  const ack = Object.freeze({ boot });

  function heartbeats(batch: readonly unknown[], options = noOptions): HeartbeatResult[] {
    if (deps.stopped()) throw new SupervisorStoppedError('accept a heartbeat');
    if (!Array.isArray(batch)) {
      throw new InvalidArgumentError('batch', 'expected an array of heartbeats');
    }
    const now = clock.now();
    const rate = options.rate ?? deps.rate;
    const { sender, senders } = options;
    if (senders !== undefined && senders.length !== batch.length) {
      throw new InvalidArgumentError('senders', 'expected one sender per heartbeat of the batch');
    }
    const results: HeartbeatResult[] = new Array(batch.length);
    if (options.allOrNothing === true) {
      if (senders !== undefined) {
        throw new InvalidArgumentError('senders', 'an all-or-nothing batch has one sender');
      }
      return wholeOrNothing(batch, sender, rate, now, results);
    }
    for (let i = 0; i < batch.length; i++) {
      const input = batch[i];
      const sender = senders === undefined ? options.sender : senders[i];
      const refusal = invalid(input, sender);
      if (refusal !== undefined) {
        results[i] = refusal;
        continue;
      }
      const decided = decide(input as Beat, sender, rate, now);
      if (isRefusal(decided)) {
        results[i] = decided;
        continue;
      }
      take(decided, input as Beat, rate, now);
      results[i] = accepted(decided, rate, now);
    }
    return results;
  }

  /** The one-item case: throws the refusal, answers `{ boot }`. */
  function heartbeat(input: unknown): { readonly boot: number } {
    if (deps.stopped()) throw new SupervisorStoppedError('accept a heartbeat');
    const now = clock.now();
    const refusal = invalid(input, undefined);
    if (refusal !== undefined) throw refusal.error;
    const decided = decide(input as Beat, undefined, deps.rate, now);
    if (isRefusal(decided)) throw decided.error;
    take(decided, input as Beat, deps.rate, now);
    return ack;
  }

  // Every heartbeat checked first (all validated, then each decided in turn, stopping at the
  // first refusal as the checks of a single heartbeat would), then all taken.
  function wholeOrNothing(
    batch: readonly unknown[],
    sender: string | undefined,
    rate: HeartbeatRate | undefined,
    now: number,
    results: HeartbeatResult[],
  ): HeartbeatResult[] {
    let refusedAt = -1;
    for (let i = 0; i < batch.length && refusedAt < 0; i++) {
      const refusal = invalid(batch[i], sender);
      if (refusal !== undefined) {
        results[i] = refusal;
        refusedAt = i;
      }
    }
    const records: NodeEntry[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < batch.length && refusedAt < 0; i++) {
      const beat = batch[i] as Beat;
      // Checked before any is taken, so two of one node could each pass against the old seq.
      const decided = seen.has(beat.nodeId)
        ? refused(beat.nodeId, new InvalidHeartbeatError('/nodeId', repeated))
        : decide(beat, sender, rate, now);
      seen.add(beat.nodeId);
      if (isRefusal(decided)) {
        results[i] = decided;
        refusedAt = i;
      } else records.push(decided);
    }
    if (refusedAt >= 0) {
      const notTaken = refused(undefined, new BatchRefusedError(refusedAt));
      for (let i = 0; i < batch.length; i++) if (i !== refusedAt) results[i] = notTaken;
      return results;
    }
    for (let i = 0; i < batch.length; i++) {
      const record = records[i] as NodeEntry;
      take(record, batch[i] as Beat, rate, now);
      results[i] = accepted(record, rate, now);
    }
    return results;
  }

  // Malformed: refused, and it counts against the node it names, unless the sender is another
  // node (whose credentials cannot make a node pay for what they sent).
  function invalid(input: unknown, sender: string | undefined): Refusal | undefined {
    const error = heartbeatProblem(input);
    if (error === undefined) return undefined;
    const nodeId = (input as { nodeId?: unknown } | null)?.nodeId;
    const named = typeof nodeId === 'string' && store.get(nodeId) !== undefined;
    if (named && (sender === undefined || sender === nodeId)) {
      trust.note(nodeId, 'rejectedHeartbeat', error.message);
    }
    return refused(typeof nodeId === 'string' ? nodeId : undefined, error);
  }

  // The checks of a well-formed heartbeat, in the order HTTP has always answered them: its
  // node's record when it may be taken, else the refusal.
  function decide(
    beat: Beat,
    sender: string | undefined,
    rate: HeartbeatRate | undefined,
    now: number,
  ): Refusal | NodeEntry {
    const { nodeId } = beat;
    if (sender !== undefined && sender !== nodeId) return impersonation(sender, nodeId);
    const record = store.get(nodeId);
    if (record === undefined) return refused(nodeId, new UnknownNodeError(nodeId));
    if (rate !== undefined) {
      const waitMs = rateWaitMs(record, rate, now);
      if (waitMs > 0) return refused(nodeId, new RateLimitedError(nodeId, waitMs));
    }
    const error = store.refusal(record, beat);
    if (error === undefined) return record;
    if (error instanceof StaleHeartbeatError) {
      trust.note(nodeId, 'rejectedHeartbeat', error.message);
      // A refused replay costs a token as an accepted beat does: a flood of them is not free.
      if (rate !== undefined) rateTake(record);
    }
    return refused(nodeId, error);
  }

  // A node's credentials speaking for another node: it counts against the sender's trust.
  function impersonation(sender: string, nodeId: string): Refusal {
    const named = nodeId.slice(0, 253);
    if (store.get(sender) !== undefined) {
      trust.note(sender, 'impersonation', `heartbeat as ${named}`);
    }
    return refused(
      nodeId,
      new ForbiddenError(`node '${sender}' may act only as itself, not as '${named}'`),
    );
  }

  function take(record: NodeEntry, beat: Beat, rate: HeartbeatRate | undefined, now: number): void {
    store.take(record, beat, now);
    if (rate !== undefined) rateTake(record);
    deps.taken?.(beat, now, record);
  }

  // The reply's few fields, read from the node's record and actor: never a snapshot copy.
  function accepted(
    record: NodeEntry,
    rate: HeartbeatRate | undefined,
    now: number,
  ): HeartbeatResult {
    const { value, context } = (record.attached as NodeActorRef).getSnapshot();
    return {
      ok: true,
      nodeId: record.id,
      state: value,
      since: context.since,
      reason: context.reason,
      boot,
      licence: licence === undefined ? undefined : licence(record.id, now),
      rateTokens: rate === undefined ? undefined : record.tokens,
    };
  }

  return { heartbeats, heartbeat };
}

type Beat = Heartbeat;
type NodeEntry = NodeRecord<NodeActorRef>;
type Refusal = Extract<HeartbeatResult, { ok: false }>;

const repeated = 'repeats a node of this batch: send one heartbeat per node';

function isRefusal(decided: Refusal | NodeEntry): decided is Refusal {
  return (decided as Refusal).ok === false;
}

function refused(nodeId: string | undefined, error: WyneosError): Refusal {
  return { ok: false, nodeId, error };
}
