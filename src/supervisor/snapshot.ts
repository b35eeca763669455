import type { NodeActorRef } from '../../machines/supervisor.machine.js';
import type { FailureDetector, FleetCondition, HealingPlan } from '../healing/index.js';
import type {
  DetectorState,
  Mutable,
  NodeRecord,
  TelemetryColumns,
  TelemetryStore,
} from '../telemetry/index.js';
import { type TrustOptions, trustAt } from '../trust/index.js';
import type { FleetSnapshot, NodeSnapshot, NodeState } from '../types.js';

/**
 * How a tick reads suspicion: from the failure detector, at `at`, except that silence from
 * before `watchedSince` (when the supervisor itself was not watching) does not count.
 */
export interface SuspicionReader {
  readonly detector: FailureDetector<DetectorState>;
  readonly at: number;
  readonly watchedSince: number;
  readonly trust: TrustOptions;
}

/** One node as a tick sees it: lifecycle from its actor, the rest from its telemetry record. */
export function nodeSnapshot(
  columns: TelemetryColumns,
  record: NodeRecord<NodeActorRef>,
  actor: NodeActorRef,
  reader: SuspicionReader,
): NodeSnapshot {
  const copy = newView(columns, record, actor, reader);
  // The record's metrics are not frozen (that is on the heartbeat path): a view a caller
  // keeps gets its own copy, so writing to it cannot reach the supervisor's state.
  copy.metrics = { ...record.metrics };
  return copy;
}

/**
 * What `countStates` and `fleetCondition` need of a tick's views, counted while
 * `nodeSnapshots` writes them rather than in two more passes over 100,000 objects. Kept beside
 * the array it was counted in, and valid while its views are (during the tick).
 */
interface Census {
  readonly states: Readonly<Record<NodeState, number>>;
  readonly offlineSince: readonly number[];
}
const censuses = new WeakMap<readonly NodeSnapshot[], Census>();

/**
 * Every registered node, in registration order, as this tick sees it. Each node keeps one
 * snapshot object that every tick refreshes in place: allocating 100,000 fresh objects a tick
 * cost about 70 ms in young-generation garbage collection alone. What changes between ticks
 * (telemetry, trust, suspicion) is rewritten every tick; the lifecycle fields only when the
 * node's actor has moved to a new snapshot since the view last mirrored it, and the fields
 * fixed at registration never: with 1 % of a fleet changing state a tick, reading every actor's
 * context and writing its seven fields was most of the cost. (So a rule that writes to a view,
 * which the type forbids, leaves a lifecycle field wrong until the node's next transition, and
 * a field fixed at registration wrong for good: before, every field was rewritten per tick.)
 * A snapshot is valid during the tick that passes it; `sup.nodes()` and `sup.node()` return
 * copies.
 */
export function nodeSnapshots(
  store: TelemetryStore<NodeActorRef>,
  reader: SuspicionReader,
): NodeSnapshot[] {
  const nodes: NodeSnapshot[] = new Array(store.size);
  let n = 0;
  let overloaded = 0;
  let isolated = 0;
  const offlineSince: number[] = [];
  const { columns } = store;
  for (const record of store.values()) {
    const actor = record.attached;
    if (actor === undefined) continue;
    let view = record.tickView;
    const lifecycle = actor.getSnapshot();
    if (view === undefined) {
      view = newView(columns, record, actor, reader);
      record.tickView = view;
    } else {
      if (record.mirrored !== lifecycle) mirrorLifecycle(view, lifecycle);
      refreshTelemetry(view, columns, record, reader);
    }
    record.mirrored = lifecycle;
    nodes[n++] = view;
    const state = view.state;
    if (state === 'online') continue;
    if (state === 'overloaded') overloaded++;
    else if (state === 'isolated') isolated++;
    else offlineSince.push(view.since);
  }
  nodes.length = n;
  const offline = offlineSince.length;
  const states = { online: n - overloaded - isolated - offline, overloaded, isolated, offline };
  censuses.set(nodes, { states, offlineSince });
  return nodes;
}

/** Every registered node, in registration order, as fresh copies a caller may keep. */
export function nodeViews(
  store: TelemetryStore<NodeActorRef>,
  reader: SuspicionReader,
): NodeSnapshot[] {
  const nodes: NodeSnapshot[] = [];
  for (const record of store.values()) {
    if (record.attached === undefined) continue;
    nodes.push(nodeSnapshot(store.columns, record, record.attached, reader));
  }
  return nodes;
}

/**
 * A node's view, every field written at once in the order a NodeSnapshot has always had them:
 * one literal, so V8 keeps all the fields in the object itself rather than in a separate
 * array, as for a view grown field by field from `{}` (about 30 B a node less).
 */
function newView(
  columns: TelemetryColumns,
  record: NodeRecord<NodeActorRef>,
  actor: NodeActorRef,
  reader: SuspicionReader,
): Mutable<NodeSnapshot> {
  const { value, context } = actor.getSnapshot();
  const { slot } = record;
  const seq = columns.seq[slot] as number;
  const lastHeartbeatAt = columns.lastHeartbeatAt[slot] as number;
  return {
    id: record.id,
    state: value,
    since: context.since,
    reason: context.reason,
    isolations: context.isolations,
    reinstateAt: context.reinstateAt ?? undefined,
    probationUntil: context.probationUntil ?? undefined,
    escalation: context.escalation,
    labels: record.labels,
    version: record.version,
    registeredAt: record.registeredAt,
    load: columns.load[slot] as number,
    metrics: record.metrics,
    seq: seq < 0 ? undefined : seq,
    lastHeartbeatAt: lastHeartbeatAt < 0 ? undefined : lastHeartbeatAt,
    trust: trustOf(record, reader),
    suspicion: suspicionOf(record, reader),
  };
}

function mirrorLifecycle(
  view: Mutable<NodeSnapshot>,
  { value, context }: ReturnType<NodeActorRef['getSnapshot']>,
): void {
  view.state = value;
  view.since = context.since;
  view.reason = context.reason;
  view.isolations = context.isolations;
  view.reinstateAt = context.reinstateAt ?? undefined;
  view.probationUntil = context.probationUntil ?? undefined;
  view.escalation = context.escalation;
}

function refreshTelemetry(
  view: Mutable<NodeSnapshot>,
  columns: TelemetryColumns,
  record: NodeRecord<NodeActorRef>,
  reader: SuspicionReader,
): void {
  const { slot } = record;
  const seq = columns.seq[slot] as number;
  const lastHeartbeatAt = columns.lastHeartbeatAt[slot] as number;
  view.load = columns.load[slot] as number;
  view.metrics = record.metrics;
  view.seq = seq < 0 ? undefined : seq;
  view.lastHeartbeatAt = lastHeartbeatAt < 0 ? undefined : lastHeartbeatAt;
  view.trust = trustOf(record, reader);
  view.suspicion = suspicionOf(record, reader);
}

function trustOf(record: NodeRecord<NodeActorRef>, reader: SuspicionReader): number {
  return record.trust === undefined ? 1 : trustAt(record.trust, reader.at, reader.trust);
}

function suspicionOf(record: NodeRecord<NodeActorRef>, reader: SuspicionReader): number {
  const { detector, at, watchedSince } = reader;
  const last = record.detector.last;
  return detector.suspicion(record.detector, last < watchedSince ? last + (at - watchedSince) : at);
}

/** How many nodes are in each state. */
export function countStates(nodes: readonly NodeSnapshot[]): Record<NodeState, number> {
  const census = censuses.get(nodes);
  if (census !== undefined) return { ...census.states };
  const states = { online: 0, overloaded: 0, isolated: 0, offline: 0 };
  for (const node of nodes) states[node.state]++;
  return states;
}

/** What the safety limits look at: isolations, and how many nodes went offline recently. */
export function fleetCondition(
  snapshot: FleetSnapshot,
  plan: HealingPlan,
  windowMs: number,
): FleetCondition {
  let isolated = 0;
  let offline = 0;
  let recentlyOffline = 0;
  const census = censuses.get(snapshot.nodes);
  if (census !== undefined) {
    isolated = census.states.isolated;
    offline = census.states.offline;
    for (const since of census.offlineSince) if (since > snapshot.at - windowMs) recentlyOffline++;
  } else {
    for (const node of snapshot.nodes) {
      if (node.state === 'isolated') isolated++;
      else if (node.state === 'offline') {
        offline++;
        if (node.since > snapshot.at - windowMs) recentlyOffline++;
      }
    }
  }
  for (const { event } of plan.commands) {
    if (event.type === 'WENT_OFFLINE') {
      offline++;
      recentlyOffline++;
    } else if (event.type === 'CAME_BACK') offline--;
  }
  const nodeCount = snapshot.nodes.length;
  return { at: snapshot.at, nodeCount, isolated, offline, recentlyOffline, windowMs };
}
