import { assign } from 'xstate';
import type { TickReview } from '../../machines/events.js';
import { governanceMachine } from '../../machines/governance.machine.js';
import { healingMachine } from '../../machines/healing.machine.js';
import type { ReviewEvent } from '../../machines/review.machine.js';
import { reviewMachine } from '../../machines/review.machine.js';
import { snapshotMachine } from '../../machines/snapshot.machine.js';
import type {
  NodeActorRef,
  SupervisorContext,
  SupervisorEvent,
} from '../../machines/supervisor.machine.js';
import type { Clock } from '../clock.js';
import type { GovernanceEngine } from '../governance/index.js';
import {
  escalate,
  type FlapCounter,
  type LoadTrends,
  mergeProposals,
  type OverloadStreaks,
  planHealing,
  type SafetyGuard,
} from '../healing/index.js';
import type { TelemetryStore } from '../telemetry/index.js';
import type { TrustBook } from '../trust/index.js';
import type { ActionProposal } from '../types.js';
import type { ActionLedger } from './action-ledger.js';
import type { Capture, Journal } from './journal.js';
import { trustNotes } from './licence-trust-api.js';
import type { SupervisorLicensing } from './licensing.js';
import type { ResolvedOptions } from './options.js';
import type { SupervisorOutputs } from './outputs.js';
import { type PeerCounts, withPeers } from './shard-host.js';
import { fleetCondition, nodeSnapshots } from './snapshot.js';
import type { TickBook } from './tick-book.js';

/** What a tick's steps read and keep: each step owns its part of the supervisor's memory. */
export interface TickParts {
  readonly config: ResolvedOptions;
  readonly clock: Clock;
  readonly store: TelemetryStore<NodeActorRef>;
  readonly book: TickBook;
  readonly streaks: OverloadStreaks;
  readonly flaps: FlapCounter;
  readonly trends: LoadTrends | undefined;
  readonly governance: GovernanceEngine;
  readonly licensing: SupervisorLicensing;
  readonly safety: SafetyGuard;
  readonly ledger: ActionLedger;
  readonly trust: TrustBook;
  readonly outputs: SupervisorOutputs;
  readonly journal: Journal;
  /** The durable state now, for the journal to save. */
  readonly capture: Capture;
  /** Other supervisors' counts, in a distributed deployment. */
  readonly peers: (() => PeerCounts | undefined) | undefined;
}

/**
 * The implementations of a tick's steps, for `supervisorMachine.provide({ actors })`: each step
 * is an actor that evaluates what it is sent, with the memory it owns (overload streaks and
 * flaps for healing, rule streaks for governance, isolation times for safety, ...), and answers
 * with its result; the supervisor machine only stores the answers.
 */
export function tickSteps(parts: TickParts) {
  const { config, clock, store, book, streaks, flaps, governance, ledger } = parts;
  const healingOptions = {
    heartbeatTimeoutMs: config.heartbeatTimeoutMs,
    overload: config.overload,
    detector: { kind: config.detector.kind, failedAt: config.failedAt },
    escalation: config.escalation,
    flapping: config.flapping,
  };
  return {
    snapshot: snapshotMachine.provide({
      actions: {
        take: assign(({ event }) => {
          const at = clock.now();
          book.begin(event.tick, at, event.clockDriven);
          const snapshot = { tick: event.tick, at, nodes: nodeSnapshots(store, book.reader(at)) };
          book.snapshotTaken(snapshot);
          return { snapshot };
        }),
      },
    }),
    healing: healingMachine.provide({
      actions: {
        planSnapshot: assign(({ event }) => ({
          plan: planHealing(event.snapshot, streaks, {
            ...healingOptions,
            proposeRecovery: ledger.hasHook('recover'),
            flappingNodes: flaps.flapping(event.snapshot.at),
            inherited: (nodeId) => store.get(nodeId)?.inherited === true,
          }),
        })),
      },
    }),
    governance: governanceMachine.provide({
      actions: {
        evaluateSnapshot: assign(({ event }) => ({
          decision: governance.evaluate(event.snapshot),
        })),
      },
    }),
    review: reviewMachine.provide({
      actions: {
        review: assign(({ event }) => ({ review: reviewTick(parts, event) })),
      },
    }),
  };
}

/**
 * What runs after the supervisor machine's transitions (never inside one, so a pure
 * `transition()` repeats none of it): a node's transition and a tick's results go to the
 * streams, the logs, the hooks, trust and the journal.
 */
export function tickEmits(parts: TickParts) {
  const { store, book, flaps, ledger, licensing, trust, outputs, journal, capture } = parts;
  const { noteTrust } = trustNotes(trust);
  return {
    emitTransition: ({
      context,
      event,
    }: {
      context: SupervisorContext;
      event: SupervisorEvent;
    }) => {
      if (event.type !== 'NODE.TRANSITIONED') return;
      const { nodeId, from, to, reason, at } = event;
      // Isolation and reinstatement are decisions, not flaps; a node isolated starts afresh.
      if (to === 'isolated') flaps.forget(nodeId);
      else if (from !== 'isolated') flaps.record(nodeId, at);
      // A state entered here is on this process's clock: times compare again.
      const record = store.get(nodeId);
      if (record !== undefined) record.inherited = false;
      book.transition(from, to);
      if (to === 'offline') trust.note(nodeId, 'offline', reason);
      outputs.transition({ nodeId, from, to, reason, at, tick: context.tick });
    },
    emitOperatorAction: ({ event }: { event: SupervisorEvent }) => {
      if (event.type === 'OPERATOR.COMMAND') {
        ledger.recordOperator({ origin: 'operator', action: event.action });
      }
    },
    emitTickResults: ({ context }: { context: SupervisorContext }) => {
      const { snapshot, decision, review } = context;
      if (snapshot === null || decision === null || review === null) return;
      ledger.recordTick(review);
      for (const event of review.licence?.events ?? []) licensing.emit(event);
      noteTrust(snapshot.tick, snapshot.at, decision.report, review);
      outputs.report(decision.report);
      // Committed before the summary, so that the summary says whether this tick's writes failed.
      journal.commit(capture);
      journal.saveMarks(store);
      const storage = journal.health.degraded ? ['storage'] : [];
      outputs.tick(book.finish(snapshot, review, decision.report, storage));
    },
  };
}

/**
 * One tick's proposals, gathered and reviewed: healing's, predictive ones, governance's with
 * their backoff, licence gating's; merged (one action per need) and put to the safety limits.
 */
function reviewTick(parts: TickParts, { snapshot, plan, decision }: ReviewEvent): TickReview {
  const { config, store, licensing, trends, safety } = parts;
  const licence = licensing.tick(
    snapshot.tick,
    snapshot.at,
    (nodeId) => store.get(nodeId)?.tickView?.state,
  );
  // A rule's isolation escalates like healing's: it comes back on probation after a backoff.
  const withBackoff = (proposal: ActionProposal): ActionProposal => {
    const { event } = proposal;
    if (event?.type !== 'ISOLATE' || event.reinstateAt !== undefined) return proposal;
    const node = store.get(proposal.action.nodeId)?.tickView;
    if (node === undefined) return proposal;
    return { ...proposal, event: { ...event, ...escalate(node, event.at, config.escalation) } };
  };
  const proposals = mergeProposals([
    ...plan.proposals,
    ...(trends?.observe(snapshot) ?? []),
    ...decision.proposals.map(withBackoff),
    ...(licence?.proposals ?? []),
  ]);
  const local = fleetCondition(snapshot, plan, config.heartbeatTimeoutMs);
  const review = safety.review(proposals, withPeers(local, parts.peers?.()));
  return licence === undefined ? review : { ...review, licence };
}
