import type { TickReview } from '../../machines/supervisor.machine.js';
import type { Clock } from '../clock.js';
import { type ActionHook, type HookPolicy, runHook } from '../healing/index.js';
import type {
  ActionProposal,
  ActionRecord,
  RemediationAction,
  RemediationActionType,
} from '../types.js';

export type ActionHooks = Partial<Record<RemediationActionType, ActionHook>>;

// One action per type and node a tick (mergeProposals), so that pair names a held action even
// when who asks for it changes from one tick to the next.
const keyOf = ({ action }: ActionProposal) => `${action.type}\u0000${action.nodeId}`;

/**
 * Gives every action an id and a lifecycle (`proposed` → `applied` | `held` | `failed`) and
 * emits each step once. An action held back by a safety limit is not emitted again while the
 * same proposal keeps being held: a condition that persists does not make a new action each
 * tick. When the limit lets it through, it continues under the same id. An action with a hook
 * is `applied` when its hook succeeds and `failed` when it throws or times out; one without is
 * applied as soon as it is decided.
 */
export class ActionLedger {
  private nextId = 1;
  private held = new Map<string, ActionRecord>();
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly emit: (record: ActionRecord) => void,
    private readonly hooks: ActionHooks,
    private readonly policy: HookPolicy,
    private readonly clock: Clock,
    /** Each id is this and a number: `action-1`, or `action-3.1` with the boot in it. */
    private readonly idPrefix = 'action-',
  ) {}

  /** Emits the steps of one tick's reviewed actions, in the order they were proposed. */
  recordTick(review: TickReview): void {
    const stillHeld = new Map<string, ActionRecord>();
    for (const { proposal, limit } of review.held) {
      const key = keyOf(proposal);
      const previous = this.held.get(key);
      if (previous !== undefined && previous.heldBy === limit) {
        stillHeld.set(key, previous);
        continue;
      }
      const record = this.step(proposal, 'held', previous?.id, { heldBy: limit });
      stillHeld.set(key, record);
    }
    for (const proposal of review.approved)
      this.apply(proposal, this.held.get(keyOf(proposal))?.id);
    this.held = stillHeld;
  }

  /** An operator's command: never reviewed, applied at once. */
  recordOperator(proposal: ActionProposal): void {
    this.apply(proposal, undefined);
  }

  /** Whether an action for `nodeId` is held back now. */
  has(nodeId: string): boolean {
    for (const record of this.held.values()) if (record.nodeId === nodeId) return true;
    return false;
  }

  /** How many nodes have an action held back. */
  get size(): number {
    return new Set([...this.held.values()].map((record) => record.nodeId)).size;
  }

  /** A node gone: its held actions will never be applied, nor continue under their ids. */
  forget(nodeId: string): void {
    for (const [key, record] of this.held) if (record.nodeId === nodeId) this.held.delete(key);
  }

  /** Whether a hook carries out actions of this type. */
  hasHook(type: RemediationActionType): boolean {
    return this.hooks[type] !== undefined;
  }

  /** Resolves when every hook started so far has finished. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running);
  }

  private apply(proposal: ActionProposal, id: string | undefined): void {
    const proposed = this.step(proposal, 'proposed', id);
    const hook = this.hooks[proposal.action.type];
    if (hook === undefined) this.step(proposal, 'applied', proposed.id);
    else this.runHook(hook, proposal, proposed.id);
    const { type } = proposal.action;
    // Mesh propagation: tell the rest of the fleet about every isolation and reinstatement.
    if ((type === 'isolate' || type === 'reinstate') && this.hooks.propagate !== undefined) {
      const action: RemediationAction = {
        ...proposal.action,
        type: 'propagate',
        reason: `${type}: ${proposal.action.reason}`,
      };
      this.apply({ origin: proposal.origin, action }, undefined);
    }
  }

  private runHook(hook: ActionHook, proposal: ActionProposal, id: string): void {
    const run = runHook(hook, proposal.action, this.policy, this.clock).then((outcome) => {
      const extra: Partial<ActionRecord> = { attempts: outcome.attempts };
      if (outcome.status === 'applied') {
        this.step(
          proposal,
          'applied',
          id,
          'output' in outcome ? { ...extra, output: outcome.output } : extra,
        );
      } else {
        this.step(proposal, 'failed', id, { ...extra, error: outcome.error ?? 'failed' });
      }
    });
    this.running.add(run);
    void run.finally(() => this.running.delete(run));
  }

  private step(
    proposal: ActionProposal,
    status: ActionRecord['status'],
    id: string | undefined,
    extra: Partial<ActionRecord> = {},
  ): ActionRecord {
    const record: ActionRecord = {
      ...proposal.action,
      id: id ?? `${this.idPrefix}${this.nextId++}`,
      status,
      origin: proposal.origin,
      ...extra,
    };
    this.emit(record);
    return record;
  }
}
