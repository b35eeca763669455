import type { Subscription } from 'rxjs';
import type { Supervisor, TickSummary } from '../supervisor/index.js';
import type { ActionRecord, NodeTransition, RemediationActionType } from '../types.js';

/** An action as a node is told of it in a heartbeat response. */
export interface PendingAction {
  readonly id: string;
  readonly type: RemediationActionType;
  readonly reason: string;
  readonly at: number;
  readonly tick: number;
  readonly ruleId?: string;
}

/** An action record with its place in the server's action log, for `GET /v1/actions?since=`. */
export type LoggedAction = ActionRecord & { readonly cursor: number };

export interface FeedLimits {
  /** Actions kept for `GET /v1/actions`. */
  readonly actionLog: number;
  /** Actions kept per node until its next heartbeat picks them up. */
  readonly pendingPerNode: number;
  /** Transitions kept per node for `GET /v1/nodes/:id`. */
  readonly transitionsPerNode: number;
  /** Ticks whose counts per state are kept, for the dashboard's chart. */
  readonly stateHistory: number;
}

/** The counts per state after one tick: a point of the dashboard's chart. */
export interface StatePoint {
  readonly tick: number;
  readonly at: number;
  readonly states: TickSummary['states'];
}

export const defaultFeedLimits: FeedLimits = {
  actionLog: 10_000,
  pendingPerNode: 16,
  transitionsPerNode: 10,
  stateHistory: 600,
};

// `propagate` tells the rest of the fleet about a node; it is not addressed to the node.
const forTheNode = (type: RemediationActionType) => type !== 'propagate';

/**
 * What the HTTP side keeps of the supervisor's streams: each node's pending actions (handed
 * out once, with its next heartbeat response), its recent transitions, a bounded log of every
 * action step, and the latest tick summary. Every store is bounded.
 */
export class FleetFeed {
  private readonly pending = new Map<string, PendingAction[]>();
  private readonly transitions = new Map<string, NodeTransition[]>();
  private readonly log: LoggedAction[] = [];
  private readonly history: StatePoint[] = [];
  private cursor = 0;
  private readonly subscriptions: Subscription[];
  /** The latest tick summary, or undefined before the first tick. */
  lastTick: TickSummary | undefined;
  /** False once the supervisor's streams have completed (it was stopped). */
  live = true;

  constructor(
    supervisor: Supervisor,
    private readonly limits: FeedLimits = defaultFeedLimits,
  ) {
    this.subscriptions = [
      supervisor.actions$.subscribe((record) => this.action(record)),
      supervisor.transitions$.subscribe((transition) => this.transition(transition)),
      supervisor.ticks$.subscribe({
        next: (summary) => {
          this.lastTick = summary;
          this.history.push({ tick: summary.tick, at: summary.at, states: summary.states });
          trim(this.history, this.limits.stateHistory);
        },
        complete: () => {
          this.live = false;
        },
      }),
    ];
  }

  /** Hands out and forgets the actions waiting for `nodeId`. */
  takePending(nodeId: string): PendingAction[] {
    const actions = this.pending.get(nodeId);
    if (actions === undefined) return [];
    this.pending.delete(nodeId);
    return actions;
  }

  /** Looks at the actions waiting for `nodeId` without taking them. */
  peekPending(nodeId: string): readonly PendingAction[] {
    return this.pending.get(nodeId) ?? [];
  }

  recentTransitions(nodeId: string): readonly NodeTransition[] {
    return this.transitions.get(nodeId) ?? [];
  }

  /** Logged actions after `since` (a cursor from an earlier answer), at most `limit`. */
  actionsSince(since: number, limit: number): { actions: LoggedAction[]; next: number } {
    // Cursors are consecutive, so the first one after `since` is found by subtraction.
    const first = Math.max(0, since + 1 - (this.log[0]?.cursor ?? 0));
    const actions = this.log.slice(first, first + limit);
    return { actions, next: actions.at(-1)?.cursor ?? Math.max(since, 0) };
  }

  /** The counts per state of the latest ticks, oldest first. */
  stateHistory(): readonly StatePoint[] {
    return this.history.slice(-this.limits.stateHistory);
  }

  forget(nodeId: string): void {
    this.pending.delete(nodeId);
    this.transitions.delete(nodeId);
  }

  has(nodeId: string): boolean {
    return this.pending.has(nodeId) || this.transitions.has(nodeId);
  }

  get size(): number {
    return new Set([...this.pending.keys(), ...this.transitions.keys()]).size;
  }

  close(): void {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  private action(record: ActionRecord): void {
    this.log.push({ ...record, cursor: ++this.cursor });
    trim(this.log, this.limits.actionLog);
    if (record.status !== 'proposed' || !forTheNode(record.type)) return;
    const { id, type, reason, at, tick, ruleId } = record;
    const action: PendingAction = { id, type, reason, at, tick, ...(ruleId ? { ruleId } : {}) };
    append(this.pending, record.nodeId, action, this.limits.pendingPerNode);
  }

  private transition(transition: NodeTransition): void {
    append(this.transitions, transition.nodeId, transition, this.limits.transitionsPerNode);
  }
}

/**
 * Keeps about the last `max` items of a log. Trimmed in chunks: shifting a long array on every
 * push would copy it every time; readers slice to `max`.
 */
function trim(log: unknown[], max: number): void {
  if (log.length >= max + Math.ceil(max / 4)) log.splice(0, log.length - max);
}

/** Appends to a node's list, dropping the oldest past `max`. */
function append<T>(lists: Map<string, T[]>, nodeId: string, item: T, max: number): void {
  let list = lists.get(nodeId);
  if (list === undefined) {
    list = [];
    lists.set(nodeId, list);
  }
  list.push(item);
  if (list.length > max) list.shift();
}
