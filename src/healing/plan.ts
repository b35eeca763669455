import type { ActionProposal, FleetSnapshot, NodeCommand, NodeSnapshot } from '../types.js';
import { escalate } from './escalation.js';
import type { OverloadStreaks } from './overload-streaks.js';
import type { HealingOptions, HealingPlan } from './types.js';

/**
 * Decides, for one tick, which nodes went offline, came back, became overloaded or recovered.
 * Deterministic and free of I/O; the only state it keeps between ticks is the overload
 * streaks it is given.
 */
export function planHealing(
  snapshot: FleetSnapshot,
  streaks: OverloadStreaks,
  options: HealingOptions,
): HealingPlan {
  const { tick, at } = snapshot;
  const { heartbeatTimeoutMs, overload, detector } = options;
  const commands: NodeCommand[] = [];
  const proposals: ActionProposal[] = [];
  const heard = (node: NodeSnapshot) => heardSince(node, options.inherited?.(node.id) === true);

  const isolate = (node: NodeSnapshot, reason: string, holdMs = 0) => {
    const { escalation, reinstateAt } = escalate(node, at, options.escalation, holdMs);
    proposals.push({
      origin: 'healing',
      action: { type: 'isolate', nodeId: node.id, reason, tick, at },
      event: { type: 'ISOLATE', at, reason, escalation, reinstateAt },
    });
  };

  // Usually empty: then no node costs a lookup.
  const flapping =
    options.flappingNodes === undefined || options.flappingNodes.size === 0
      ? undefined
      : options.flappingNodes;
  for (const node of snapshot.nodes) {
    const live = node.suspicion < detector.failedAt;
    if (node.state === 'isolated') {
      // Back on probation once the backoff is over, if it beats: never an operator's isolation.
      if (node.reinstateAt !== undefined && at >= node.reinstateAt && live && heard(node)) {
        const reason = `backoff over after isolation ${node.escalation}: reinstated on probation`;
        proposals.push({
          origin: 'healing',
          action: { type: 'reinstate', nodeId: node.id, reason, tick, at },
          event: {
            type: 'REINSTATE',
            at,
            reason,
            probationUntil: at + options.escalation.probationMs,
          },
        });
      }
      continue;
    }
    const onProbation = node.probationUntil !== undefined && at < node.probationUntil;
    const flaps = flapping?.get(node.id);
    if (flaps !== undefined) {
      const window = options.flapping.windowMs;
      isolate(node, `flapping: ${flaps} transitions in ${window} ms`, options.flapping.holdMs);
      // No `continue`: the isolation may be held by a safety limit, and a node silent for the
      // timeout must still be declared offline (found by fast-check: with the cap reached,
      // flapping nodes stayed online through any silence).
    }

    if (node.state === 'offline') {
      if (live && heard(node)) {
        commands.push(command(node.id, 'CAME_BACK', at, 'heartbeats resumed'));
      }
      continue;
    }
    if (!live) {
      streaks.reset(node.id);
      const silentFor = at - lastSeenAt(node);
      const reason =
        detector.kind === 'timeout'
          ? `no heartbeat for ${silentFor} ms (timeout ${heartbeatTimeoutMs} ms)`
          : `phi ${node.suspicion.toFixed(1)} reached ${detector.failedAt} after ${silentFor} ms without a heartbeat`;
      commands.push(command(node.id, 'WENT_OFFLINE', at, reason));
      if (onProbation) isolate(node, `failed during probation: ${reason}`);
      if (options.proposeRecovery === true) {
        proposals.push({
          origin: 'healing',
          action: { type: 'recover', nodeId: node.id, reason, tick, at },
        });
      }
      continue;
    }

    const online = node.state === 'online';
    const pastMark = online ? node.load >= overload.high : node.load <= overload.low;
    const ticks = streaks.count(node.id, tick, online ? 'high' : 'low', pastMark);
    if (ticks < overload.ticks) continue;
    streaks.reset(node.id);
    if (online) {
      const reason = `load at or over ${overload.high} for ${ticks} ticks`;
      commands.push(command(node.id, 'OVERLOADED', at, reason));
      if (onProbation) isolate(node, `failed during probation: ${reason}`);
      proposals.push({
        origin: 'healing',
        action: { type: 'reduce-load', nodeId: node.id, reason, tick, at },
      });
    } else {
      const reason = `load at or under ${overload.low} for ${ticks} ticks`;
      commands.push(command(node.id, 'RECOVERED', at, reason));
    }
  }
  streaks.forgetAllBut(tick);
  return { tick, commands, proposals };
}

/**
 * Whether a heartbeat arrived since the node entered its state. Only a heartbeat proves a node
 * alive: a low suspicion alone may mean the supervisor forgot the silence (the grace after a
 * late tick or a restart), and reviving a node on that would claim what nobody observed.
 */
function heardSince(node: NodeSnapshot, inherited: boolean): boolean {
  if (node.lastHeartbeatAt === undefined) return false;
  return inherited || node.lastHeartbeatAt >= node.since;
}

function lastSeenAt(node: NodeSnapshot): number {
  return node.lastHeartbeatAt ?? node.registeredAt;
}

function command(
  nodeId: string,
  type: 'CAME_BACK' | 'WENT_OFFLINE' | 'OVERLOADED' | 'RECOVERED',
  at: number,
  reason: string,
): NodeCommand {
  return { nodeId, event: { type, at, reason } };
}
