import type { ErrorCode, NodeState } from 'wyneos';
import { govern, type ModelReport } from './governance.js';
import { modelOptions } from './options.js';
import { type ModelPolicy, type PolicyName, policies } from './policies.js';

/** What one node looks like to the model, and what the simulated machine behind it does. */
export interface ModelNode {
  readonly id: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly version: string | undefined;
  readonly registeredAt: number;
  state: NodeState;
  since: number;
  isolations: number;
  seq: number | undefined;
  lastHeartbeatAt: number | undefined;
  load: number;
  /** Consecutive ticks past the mark that matters in the state it was counted in. */
  streak: { readonly mark: 'high' | 'low'; readonly ticks: number } | undefined;
  /** Set by an automatic isolation; an operator's isolation leaves it undefined (for good). */
  reinstateAt: number | undefined;
  probationUntil: number | undefined;
  /** Automatic isolations in a row. */
  escalation: number;
  /** Per rule in force: consecutive ticks it failed this node. */
  failing: Map<string, number>;
  /** The simulated machine: whether it sends a heartbeat every tick, and with which load. */
  beating: boolean;
  beatLoad: number;
}

export interface ModelTick {
  readonly tick: number;
  readonly at: number;
  readonly nodeCount: number;
  readonly states: Readonly<Record<NodeState, number>>;
  readonly transitions: number;
  readonly actions: number;
  readonly held: number;
}

export type Proposal = {
  readonly origin: 'healing' | 'governance';
  readonly type: 'isolate' | 'reinstate' | 'reduce-load' | 'warn';
  readonly node: ModelNode;
};

/** The outcome the model predicts for an API call: done, or the code of the error it throws. */
export type Outcome = 'ok' | ErrorCode;

/**
 * A reference model of a supervisor run with `modelOptions`: node states and the tick that
 * moves them, written from the README (healing, governance, safety limits) and the API's
 * documentation, not from the supervisor's planning code. It also plays the machines behind
 * the nodes: whether each beats, and with which load (see `InjectFaultCommand`).
 */
export class FleetModel {
  now = 0;
  tick = 0;
  readonly nodes = new Map<string, ModelNode>();
  policy: ModelPolicy = policies.none;
  report: ModelReport | null = null;
  /** Applied actions not compared yet, as `origin type nodeId`. */
  actions: string[] = [];
  /** Tick summaries not compared yet. */
  ticks: ModelTick[] = [];
  /** Governance reports not compared yet. */
  reports: ModelReport[] = [];

  register(id: string, labels: Record<string, string>, version: string | undefined): Outcome {
    if (this.nodes.has(id)) return 'WYNEOS_ERR_DUPLICATE_NODE';
    const candidate = { labels, version, load: 0 };
    const refused = this.policy.rules.some(
      (rule) => rule.admission && rule.applies(candidate) && rule.fails(candidate),
    );
    if (refused) return 'WYNEOS_ERR_ADMISSION_DENIED';
    this.nodes.set(id, {
      id,
      labels,
      version,
      registeredAt: this.now,
      state: 'online',
      since: this.now,
      isolations: 0,
      seq: undefined,
      lastHeartbeatAt: undefined,
      load: 0,
      streak: undefined,
      reinstateAt: undefined,
      probationUntil: undefined,
      escalation: 0,
      failing: new Map(),
      beating: true,
      beatLoad: 0.2,
    });
    return 'ok';
  }

  deregister(id: string): Outcome {
    return this.nodes.delete(id) ? 'ok' : 'WYNEOS_ERR_UNKNOWN_NODE';
  }

  heartbeat(id: string, seq: number, load: number): Outcome {
    if (!(load >= 0 && load <= 1)) return 'WYNEOS_ERR_INVALID_HEARTBEAT';
    const node = this.nodes.get(id);
    if (node === undefined) return 'WYNEOS_ERR_UNKNOWN_NODE';
    if (node.seq !== undefined && seq <= node.seq) return 'WYNEOS_ERR_STALE_HEARTBEAT';
    node.seq = seq;
    node.load = load;
    node.lastHeartbeatAt = this.now;
    return 'ok';
  }

  /** The heartbeats the simulated machines send right after a tick. */
  beats(): Array<{ nodeId: string; seq: number; load: number }> {
    return [...this.nodes.values()]
      .filter((node) => node.beating)
      .map((node) => ({ nodeId: node.id, seq: (node.seq ?? 0) + 1, load: node.beatLoad }));
  }

  /** An operator's isolation: applied at once, never held, never ended by healing. */
  isolate(id: string): Outcome {
    const node = this.nodes.get(id);
    if (node === undefined) return 'WYNEOS_ERR_UNKNOWN_NODE';
    if (node.state === 'isolated') return 'ok';
    this.enter(node, 'isolated', this.now);
    node.isolations++;
    node.reinstateAt = undefined;
    this.actions.push(`operator isolate ${id}`);
    return 'ok';
  }

  /** An operator's reinstatement: back online at once, and not on probation. */
  reinstate(id: string): Outcome {
    const node = this.nodes.get(id);
    if (node === undefined) return 'WYNEOS_ERR_UNKNOWN_NODE';
    if (node.state !== 'isolated') return 'ok';
    this.enter(node, 'online', this.now);
    node.reinstateAt = undefined;
    node.probationUntil = undefined;
    this.actions.push(`operator reinstate ${id}`);
    return 'ok';
  }

  setPolicy(name: PolicyName): void {
    this.policy = policies[name];
  }

  /** One tick at `now`: healing and governance look at the fleet as it was when it started. */
  runTick(): void {
    const at = this.now;
    this.tick++;
    const fleet = [...this.nodes.values()];
    const observed: Array<[ModelNode, NodeState]> = [];
    const proposals: Proposal[] = [];
    for (const node of fleet) this.heal(node, at, observed, proposals);
    this.report = govern(this.policy, fleet, { tick: this.tick, at }, proposals);
    this.reports.push(this.report);

    // Safety: at most half the fleet isolated (at least one node), counting the nodes isolated
    // when the tick began and those this tick isolates; reinstatements this tick free no room.
    // Proposals are reviewed as they came: healing's, then each rule's, in registration order.
    // Nothing else is held: the other limits are out of reach (see options.ts). Requests of one
    // type for one node this tick (healing and a rule both asking) are one action, in the place
    // of the first, healing's if healing asked.
    const cap = Math.max(1, Math.floor(fleet.length * modelOptions.safety.maxIsolatedFraction));
    const isolating = new Set(fleet.filter((n) => n.state === 'isolated').map((n) => n.id));
    const approved: Proposal[] = [];
    let held = 0;
    const isolatedNow = new Set<string>();
    for (const proposal of merged(proposals)) {
      if (proposal.type === 'isolate' && isolatedNow.has(proposal.node.id)) continue;
      if (proposal.type === 'isolate' && !isolating.has(proposal.node.id)) {
        if (isolating.size + 1 > cap) {
          held++;
          continue;
        }
        isolating.add(proposal.node.id);
        isolatedNow.add(proposal.node.id);
      }
      approved.push(proposal);
    }

    // Observations first, then actions: a node that went offline and broke a rule ends isolated.
    let transitions = 0;
    for (const [node, to] of observed) {
      this.enter(node, to, at);
      transitions++;
    }
    for (const { origin, type, node } of approved) {
      this.actions.push(`${origin} ${type} ${node.id}`);
      if (type === 'isolate' && node.state !== 'isolated') {
        const { escalation, reinstateAt } = this.backoff(node, at);
        this.enter(node, 'isolated', at);
        node.isolations++;
        node.escalation = escalation;
        node.reinstateAt = reinstateAt;
        transitions++;
      } else if (type === 'reinstate' && node.state === 'isolated') {
        this.enter(node, 'online', at);
        node.reinstateAt = undefined;
        node.probationUntil = at + modelOptions.escalation.probationMs;
        transitions++;
      }
    }
    const states = { online: 0, overloaded: 0, isolated: 0, offline: 0 };
    for (const node of fleet) states[node.state]++;
    this.ticks.push({
      tick: this.tick,
      at,
      nodeCount: fleet.length,
      states,
      transitions,
      actions: approved.length,
      held,
    });
  }

  /** Healing for one node: liveness, overload with hysteresis, probation. */
  private heal(
    node: ModelNode,
    at: number,
    observed: Array<[ModelNode, NodeState]>,
    proposals: Proposal[],
  ): void {
    const { heartbeatTimeoutMs, overload } = modelOptions;
    const silentFor = at - (node.lastHeartbeatAt ?? node.registeredAt);
    const live = silentFor < heartbeatTimeoutMs;
    const onProbation = node.probationUntil !== undefined && at < node.probationUntil;
    const counting = live && (node.state === 'online' || node.state === 'overloaded');
    if (!counting) node.streak = undefined;

    if (node.state === 'isolated') {
      // Back on probation once the backoff is over, if it beats; never an operator's isolation.
      if (node.reinstateAt !== undefined && at >= node.reinstateAt && live) {
        proposals.push({ origin: 'healing', type: 'reinstate', node });
      }
      return;
    }
    if (node.state === 'offline') {
      if (live) observed.push([node, 'online']);
      return;
    }
    if (!live) {
      observed.push([node, 'offline']);
      if (onProbation) proposals.push({ origin: 'healing', type: 'isolate', node });
      return;
    }
    const mark = node.state === 'online' ? 'high' : 'low';
    const past = mark === 'high' ? node.load >= overload.high : node.load <= overload.low;
    const ticks = past ? (node.streak?.mark === mark ? node.streak.ticks : 0) + 1 : 0;
    node.streak = past ? { mark, ticks } : undefined;
    if (ticks < overload.ticks) return;
    node.streak = undefined;
    if (node.state === 'online') {
      observed.push([node, 'overloaded']);
      if (onProbation) proposals.push({ origin: 'healing', type: 'isolate', node });
      proposals.push({ origin: 'healing', type: 'reduce-load', node });
    } else {
      observed.push([node, 'online']);
    }
  }

  /** Escalating isolation: base × multiplier^(n-1), capped; n counts on while recently reinstated. */
  private backoff(node: ModelNode, at: number): { escalation: number; reinstateAt: number } {
    const { baseMs, multiplier, maxMs, resetAfterMs } = modelOptions.escalation;
    const inARow = node.probationUntil !== undefined && at <= node.probationUntil + resetAfterMs;
    const escalation = inARow ? node.escalation + 1 : 1;
    return {
      escalation,
      reinstateAt: at + Math.min(maxMs, baseMs * multiplier ** (escalation - 1)),
    };
  }

  private enter(node: ModelNode, state: NodeState, at: number): void {
    node.state = state;
    node.since = at;
  }
}

/** One proposal per type and node, where the first was; healing's origin leads a merged one. */
function merged(proposals: readonly Proposal[]): Proposal[] {
  const byNeed = new Map<string, Proposal>();
  for (const proposal of proposals) {
    const key = `${proposal.type} ${proposal.node.id}`;
    const first = byNeed.get(key);
    if (first === undefined) byNeed.set(key, proposal);
    else if (proposal.origin === 'healing') byNeed.set(key, { ...first, origin: 'healing' });
  }
  return [...byNeed.values()];
}
