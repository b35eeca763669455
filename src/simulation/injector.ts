import type { Labels } from '../types.js';
import type { ResolvedFault } from './faults.js';
import type { GroundTruth } from './ground-truth.js';
import type { SeededRandom } from './random.js';
import type { SimNode } from './sim-node.js';

/** What starting a fault needs from the simulator. */
export interface InjectionContext {
  readonly now: number;
  readonly random: SeededRandom;
  readonly nodes: readonly SimNode[];
  readonly byId: ReadonlyMap<string, SimNode>;
  readonly truth: GroundTruth;
  /** Runs `run` when simulated time reaches `at`. */
  schedule(at: number, run: (now: number) => void): void;
  /** Deregisters the node and registers it again with a new identity (a redeploy). */
  redeploy(node: SimNode, identity: { readonly labels: Labels; readonly version: string }): void;
  /** The node presents a licence that expires at `until` (licence faults only). */
  renewLicence(node: SimNode, until: number): void;
  /** The node's licence is revoked (licence faults only). */
  revokeLicence(node: SimNode): void;
  /** The supervisor stops until `until` (pause faults only). */
  pause(until: number): void;
}

/** Starts a fault on its targets (picked now, by the seed) and returns their ids. */
export function startFault(fault: ResolvedFault, index: number, ctx: InjectionContext): string[] {
  if (fault.kind === 'pause') {
    ctx.pause(fault.endAt);
    return [];
  }
  const targets = pickTargets(fault, ctx);
  const { now, truth } = ctx;
  for (const node of targets) {
    const down = node.state === 'offline' || node.state === 'isolated';
    const incident = {
      fault: index,
      kind: fault.kind,
      nodeId: node.id,
      startAt: now,
      endAt: fault.endAt,
      expect: fault.expect,
    };
    const window = { from: now, until: fault.endAt };
    switch (fault.kind) {
      case 'crash':
        node.crashed = true;
        truth.open(incident, down);
        if (fault.endAt !== Infinity)
          ctx.schedule(fault.endAt, (at) => recover(node, index, at, truth));
        break;
      case 'recover':
        recover(node, index, now, truth);
        break;
      case 'partition':
        node.partitions++;
        truth.open(incident, down);
        ctx.schedule(fault.endAt, () => node.partitions--);
        break;
      case 'overload':
        node.overload = { ...window, peak: fault.peak ?? 0.98, rampMs: fault.rampMs ?? 0 };
        truth.open(incident, down);
        break;
      case 'flap':
        node.flap = { ...window, upMs: fault.upMs ?? 1, downMs: fault.downMs ?? 1 };
        truth.open(incident, down);
        break;
      case 'jitter':
        node.jitter = {
          ...window,
          maxDelayMs: fault.maxDelayMs ?? 0,
          lossRate: fault.lossRate ?? 0,
        };
        truth.open(incident, down);
        break;
      case 'slowNode':
        node.slow = { ...window, factor: fault.factor ?? 1 };
        truth.open(incident, down);
        break;
      case 'bad-heartbeat':
        node.badUntil = fault.endAt;
        truth.open(incident, down);
        break;
      case 'licence-expiry':
        truth.open(incident, down);
        ctx.renewLicence(node, now + (fault.lapseMs ?? 0));
        break;
      case 'licence-revoke':
        truth.open(incident, down);
        ctx.revokeLicence(node);
        break;
      case 'non-compliant':
        truth.open(incident, down);
        ctx.redeploy(node, {
          labels: fault.labels ?? node.labels,
          version: fault.version ?? node.version,
        });
        break;
    }
  }
  return targets.map((node) => node.id);
}

function recover(node: SimNode, fault: number, at: number, truth: GroundTruth): void {
  node.crashed = false;
  truth.end(node.id, 'crash', at);
  truth.open({ fault, kind: 'recover', nodeId: node.id, startAt: at, endAt: at, expect: 'online' });
}

function pickTargets(fault: ResolvedFault, ctx: InjectionContext): SimNode[] {
  // A crashed node is already silent: only a recovery can do anything to it.
  const candidates = ctx.nodes.filter((n) =>
    fault.kind === 'recover' ? n.crashed : n.registered && !n.crashed,
  );
  if (Array.isArray(fault.nodes)) {
    const eligible = new Set(candidates);
    return fault.nodes.flatMap((id) => {
      const node = ctx.byId.get(id);
      return node !== undefined && eligible.has(node) ? [node] : [];
    });
  }
  if (fault.kind === 'recover' && fault.nodes === undefined && fault.fraction === undefined) {
    return candidates;
  }
  const count =
    fault.fraction !== undefined
      ? Math.round(fault.fraction * candidates.length)
      : typeof fault.nodes === 'number'
        ? fault.nodes
        : 1;
  return ctx.random.sample(candidates, count);
}
