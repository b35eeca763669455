import type { ActionCause, ActionOrigin, ActionProposal } from '../types.js';

// Which proposal speaks for a merged action: one the safety limits never hold (a licence's)
// first, so merging cannot make an unconditional action holdable; then healing's, whose
// isolation carries the backoff, then a rule's.
const precedence: Record<ActionOrigin, number> = {
  operator: 0,
  licence: 1,
  healing: 2,
  governance: 3,
};

/**
 * One action per need: proposals of the same type for the same node in one tick (healing's
 * reduce-load and a max-load rule's, an isolation asked for by healing and by a rule) become
 * one action, in the place of the first, carrying every reason in `reason` and every cause in
 * `causes`. Without this a user's hook would run twice for one spike.
 */
export function mergeProposals(proposals: readonly ActionProposal[]): ActionProposal[] {
  const groups = new Map<string, ActionProposal[]>();
  for (const proposal of proposals) {
    const key = `${proposal.action.type}\u0000${proposal.action.nodeId}`;
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [proposal]);
    else group.push(proposal);
  }
  if (groups.size === proposals.length) return [...proposals];
  const merged: ActionProposal[] = [];
  for (const group of groups.values())
    merged.push(group.length === 1 ? (group[0] as ActionProposal) : mergeGroup(group));
  return merged;
}

function mergeGroup(group: readonly ActionProposal[]): ActionProposal {
  const lead = group.reduce((a, b) => (precedence[b.origin] < precedence[a.origin] ? b : a));
  const causes: ActionCause[] = group.map(({ origin, action }) => ({
    origin,
    reason: action.reason,
    ...(action.ruleId === undefined ? {} : { ruleId: action.ruleId }),
    ...(action.predictive === undefined ? {} : { predictive: action.predictive }),
  }));
  const reason = [...new Set(causes.map((c) => c.reason))].join('; ');
  const event = lead.event === undefined ? undefined : { ...lead.event, reason };
  return {
    origin: lead.origin,
    action: { ...lead.action, reason, causes },
    ...(event === undefined ? {} : { event }),
  };
}
