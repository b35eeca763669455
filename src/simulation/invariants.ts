import type { GovernanceReport } from '../governance/index.js';
import type { TickSummary } from '../supervisor/index.js';
import type { ActionRecord, NodeState, NodeTransition } from '../types.js';

/** What an invariant may look at while a simulation runs. */
export interface InvariantContext {
  readonly tickMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly detector: 'timeout' | 'phi';
  readonly maxIsolatedFraction: number;
  /** Every registered node's id. */
  nodeIds(): Iterable<string>;
  /** A node's lifecycle state as its transitions left it; undefined if it is not registered. */
  stateOf(nodeId: string): NodeState | undefined;
  /**
   * Ground truth from the simulator: when the supervisor last accepted a heartbeat from the
   * node, or registered it if it never did.
   */
  lastAcceptedAt(nodeId: string): number | undefined;
  /** When the supervisor's latest pause (a `pause` fault) ended; -Infinity if it never paused. */
  pausedUntil(): number;
}

/** One breach of an invariant. */
export interface Violation {
  readonly at: number;
  readonly nodeId?: string;
  readonly message: string;
}

/** What an invariant watches; every hook is optional. */
export interface InvariantMonitor {
  /** A node changed state. */
  transition?(transition: NodeTransition): void;
  /** An action moved on a step (proposed, applied, held or failed). */
  action?(record: ActionRecord): void;
  /** A tick's governance report. */
  report?(report: GovernanceReport): void;
  /** After every tick, with the tick's summary. */
  tick?(summary: TickSummary): void;
  /** A node was deregistered: whatever was kept about it no longer holds. */
  forget?(nodeId: string): void;
}

/**
 * A property every run must keep, checked as the run goes. `applies` says whether it means
 * anything under a configuration (a bound on the timeout detector says nothing of phi).
 */
export interface Invariant {
  readonly name: string;
  readonly description: string;
  /** Whether the invariant means anything under this run's configuration; always, if left out. */
  applies?(context: InvariantContext): boolean;
  /** Starts watching one run: the monitor calls `violated` for each breach it sees. */
  monitor(context: InvariantContext, violated: (violation: Violation) => void): InvariantMonitor;
}

/** Defines an invariant (an identity function that checks the shape and gives types). */
export function defineInvariant(invariant: Invariant): Invariant {
  return invariant;
}

const isolationCap = defineInvariant({
  name: 'isolation-cap',
  description:
    'no tick applies an automatic isolation that leaves more of the fleet isolated than safety.maxIsolatedFraction allows (at least one node)',
  monitor(context, violated) {
    let automaticIsolations = 0;
    return {
      action(record) {
        if (
          record.type === 'isolate' &&
          record.status === 'applied' &&
          record.origin !== 'operator' &&
          record.origin !== 'licence'
        ) {
          automaticIsolations++;
        }
      },
      tick(summary) {
        const cap = Math.max(1, Math.floor(summary.nodeCount * context.maxIsolatedFraction));
        if (automaticIsolations > 0 && summary.states.isolated > cap) {
          violated({
            at: summary.at,
            message: `${summary.states.isolated} of ${summary.nodeCount} nodes isolated after tick ${summary.tick}, over the cap of ${cap}`,
          });
        }
        automaticIsolations = 0;
      },
    };
  },
});

const leavesIsolationOnlyByReinstatement = defineInvariant({
  name: 'isolated-leaves-only-by-reinstatement',
  description:
    'an isolated node leaves isolated only for online, and only through an applied reinstate action',
  monitor(_context, violated) {
    // Counted per node rather than matched one by one: the action and the transition of one
    // reinstatement may arrive in either order within a tick.
    const reinstated = new Map<string, number>();
    const exits = new Map<string, number>();
    const pending: NodeTransition[] = [];
    return {
      action(record) {
        if (record.type === 'reinstate' && record.status === 'applied') {
          reinstated.set(record.nodeId, (reinstated.get(record.nodeId) ?? 0) + 1);
        }
      },
      transition(t) {
        if (t.from !== 'isolated') return;
        if (t.to !== 'online') {
          violated({
            at: t.at,
            nodeId: t.nodeId,
            message: `went from isolated to ${t.to}: ${t.reason}`,
          });
        }
        exits.set(t.nodeId, (exits.get(t.nodeId) ?? 0) + 1);
        pending.push(t);
      },
      tick() {
        for (const t of pending.splice(0)) {
          if ((exits.get(t.nodeId) ?? 0) > (reinstated.get(t.nodeId) ?? 0)) {
            violated({
              at: t.at,
              nodeId: t.nodeId,
              message: `left isolation without a reinstate action: ${t.reason}`,
            });
          }
        }
      },
    };
  },
});

const offlineWithinBound = defineInvariant({
  name: 'offline-within-timeout-plus-tick',
  description:
    'a node whose heartbeats stopped is offline (or isolated) no later than heartbeatTimeoutMs + tickMs after the last one it got through',
  applies: (context) => context.detector === 'timeout',
  monitor(context, violated) {
    const bound = context.heartbeatTimeoutMs + context.tickMs;
    const reported = new Set<string>();
    return {
      tick(summary) {
        for (const nodeId of context.nodeIds()) {
          const state = context.stateOf(nodeId);
          if (state !== 'online' && state !== 'overloaded') {
            reported.delete(nodeId);
            continue;
          }
          // A supervisor that was paused counts silence from one tick before it resumed.
          const from = Math.max(
            context.lastAcceptedAt(nodeId) ?? summary.at,
            context.pausedUntil() - context.tickMs,
          );
          const silentFor = summary.at - from;
          if (silentFor > bound && !reported.has(nodeId)) {
            reported.add(nodeId); // once per silence, not on every tick after it
            violated({
              at: summary.at,
              nodeId,
              message: `still ${state} after ${silentFor} ms of silence (bound ${bound} ms)`,
            });
          }
        }
      },
    };
  },
});

const healthyNeverOffline = defineInvariant({
  name: 'healthy-never-offline',
  description:
    'no node is declared offline while its heartbeats got through within heartbeatTimeoutMs',
  applies: (context) => context.detector === 'timeout',
  monitor(context, violated) {
    return {
      transition(t) {
        if (t.to !== 'offline') return;
        const silentFor = t.at - (context.lastAcceptedAt(t.nodeId) ?? t.at);
        if (silentFor < context.heartbeatTimeoutMs) {
          violated({
            at: t.at,
            nodeId: t.nodeId,
            message: `declared offline after only ${silentFor} ms of silence`,
          });
        }
      },
    };
  },
});

const revivedOnlyByHeartbeat = defineInvariant({
  name: 'revived-only-by-heartbeat',
  description:
    'an offline node comes back online only after a heartbeat the supervisor accepted since it went offline',
  monitor(context, violated) {
    const offlineSince = new Map<string, number>();
    return {
      transition(t) {
        if (t.to === 'offline') offlineSince.set(t.nodeId, t.at);
        if (t.from !== 'offline') return;
        const since = offlineSince.get(t.nodeId);
        offlineSince.delete(t.nodeId);
        if (t.to !== 'online') return;
        const heard = context.lastAcceptedAt(t.nodeId);
        if (since !== undefined && (heard === undefined || heard < since)) {
          violated({
            at: t.at,
            nodeId: t.nodeId,
            message: `went from offline to ${t.to} with no heartbeat since ${since}: ${t.reason}`,
          });
        }
      },
      forget(nodeId) {
        offlineSince.delete(nodeId);
      },
    };
  },
});

const noDuplicateAction = defineInvariant({
  name: 'no-duplicate-action',
  description:
    'no action is applied twice for one condition: one isolation per isolated spell, one reduce-load per overload, one action per failing streak of a rule, and one action of a type per node in a tick (several asking merge into one)',
  monitor(_context, violated) {
    // Open conditions per node: `isolate` (whoever asked), `healing:reduce-load`, or
    // `rule:<id>:<type>` for a rule's one-off actions.
    const open = new Map<string, Set<string>>();
    // Actions applied this tick, by type and node: two would be one need acted on twice.
    let thisTick = new Set<string>();
    return {
      action(record) {
        const { nodeId, type, status, origin } = record;
        if (status !== 'applied' || origin === 'operator') return;
        const key = `${record.tick} ${type} ${nodeId}`;
        // One violation per action: twice in a tick says it best, when it is so.
        let reported = thisTick.has(key);
        if (reported) {
          violated({
            at: record.at,
            nodeId,
            message: `${type} applied twice in tick ${record.tick} (action ${record.id})`,
          });
        }
        thisTick.add(key);
        if (type === 'reinstate') return;
        const conditions = open.get(nodeId) ?? new Set<string>();
        open.set(nodeId, conditions);
        // The conditions this action answers (one isolation answers every cause of it).
        const answered = new Set(
          (record.causes ?? [record]).map((cause) =>
            // A predictive reduce-load comes before its overload: the overload's own is not a
            // repeat.
            type === 'isolate'
              ? 'isolate'
              : cause.ruleId !== undefined
                ? `rule:${cause.ruleId}:${type}`
                : `${cause.origin}:${type}${cause.predictive === true ? ':predictive' : ''}`,
          ),
        );
        for (const condition of answered) {
          if (conditions.has(condition) && !reported) {
            reported = true;
            violated({
              at: record.at,
              nodeId,
              message: `${type} applied again for ${condition} (action ${record.id})`,
            });
          }
          conditions.add(condition);
        }
      },
      tick() {
        thisTick = new Set();
      },
      transition(t) {
        // Leaving the state that called for an action ends its condition.
        const conditions = open.get(t.nodeId);
        if (conditions === undefined) return;
        for (const condition of conditions) {
          if (t.from === 'isolated' && condition === 'isolate') conditions.delete(condition);
          if (t.from === 'overloaded' && condition === 'healing:reduce-load')
            conditions.delete(condition);
        }
      },
      report(report) {
        for (const { ruleId, nodeId } of report.changes.resolved) {
          const conditions = open.get(nodeId);
          for (const condition of conditions ?? []) {
            if (condition.startsWith(`rule:${ruleId}:`)) conditions?.delete(condition);
          }
        }
      },
      forget(nodeId) {
        open.delete(nodeId);
      },
    };
  },
});

/** The invariants every simulation checks unless told otherwise, by name. */
export const invariants = {
  isolationCap,
  leavesIsolationOnlyByReinstatement,
  offlineWithinBound,
  healthyNeverOffline,
  revivedOnlyByHeartbeat,
  noDuplicateAction,
} as const;

/** Every invariant of {@link invariants}: what a simulation checks unless told otherwise. */
export const defaultInvariants: readonly Invariant[] = Object.values(invariants);
