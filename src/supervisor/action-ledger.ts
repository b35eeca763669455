import type { TickReview } from '../../machines/supervisor.machine.js';
import type { ActionProposal, ActionRecord } from '../types.js';

const keyOf = ({ action }: ActionProposal) =>
  `${action.type}\u0000${action.nodeId}\u0000${action.ruleId ?? ''}`;

/**
 * Gives every action an id and a lifecycle (`proposed` → `applied` | `held` | `failed`) and
 * emits each step once. An action held back by a safety limit is not emitted again while the
 * same proposal keeps being held: a condition that persists does not make a new action each
 * tick. When the limit lets it through, it continues under the same id.
 */
export class ActionLedger {
  private nextId = 1;
  private held = new Map<string, ActionRecord>();

  constructor(private readonly emit: (record: ActionRecord) => void) {}

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

  private apply(proposal: ActionProposal, id: string | undefined): void {
    const proposed = this.step(proposal, 'proposed', id);
    this.step(proposal, 'applied', proposed.id);
  }

  private step(
    proposal: ActionProposal,
    status: ActionRecord['status'],
    id: string | undefined,
    extra: Partial<ActionRecord> = {},
  ): ActionRecord {
    const record: ActionRecord = {
      ...proposal.action,
      id: id ?? `action-${this.nextId++}`,
      status,
      origin: proposal.origin,
      ...extra,
    };
    this.emit(record);
    return record;
  }
}
