import type { RuleResult } from '../governance/index.js';
import type { NodeLicence } from '../licensing/index.js';
import type { NodeSnapshot, NodeState } from '../types.js';
import type { Supervisor } from './types.js';

/**
 * A node another supervisor of a shared fleet (NATS) holds, as that supervisor answered for it
 * now: its live view, its licence and the rules as they judge it there. `source` names who
 * answered. Transitions and pending actions are kept by the holder's HTTP server, not its
 * supervisor, and are not in it.
 */
export interface RemoteNodeView {
  readonly node: NodeSnapshot;
  readonly licence: NodeLicence | null;
  readonly rules: readonly RuleResult[];
  readonly source: {
    /** The supervisor that answered: it held the node's shard when it did. */
    readonly supervisor: string;
    readonly shard: number;
  };
}

/** A node command carried out by the node's holder. */
export type RemoteCommand =
  | { readonly type: 'isolate' | 'reinstate'; readonly reason?: string }
  | { readonly type: 'deregister' };

/** Which page of the fleet's nodes to list (as `GET /v1/nodes` takes it). */
export interface FleetQuery {
  readonly state?: NodeState;
  readonly after?: string;
  readonly limit: number;
}

/** A page of the whole fleet's nodes, and the shards whose holder did not answer. */
export interface FleetPage {
  readonly nodes: readonly NodeSnapshot[];
  readonly next?: string;
  readonly missingShards: readonly number[];
}

/**
 * @internal How the HTTP API reaches nodes other supervisors hold: each request is forwarded to
 * the holder of the node's shard, which answers as it would for itself (its errors included).
 */
export interface RemoteNodes {
  /** Whether another supervisor holds the node's shard (then requests for it go there). */
  elsewhere(nodeId: string): boolean;
  node(nodeId: string): Promise<RemoteNodeView>;
  /** Resolves once the holder has made the command durable; a deregistration gives undefined. */
  command(nodeId: string, command: RemoteCommand): Promise<NodeSnapshot | undefined>;
  /** Lists nodes across every shard, each from its holder. */
  fleet(query: FleetQuery): Promise<FleetPage>;
}

/** @internal Where a shared supervisor keeps its RemoteNodes, for the HTTP API to find. */
export const remoteNodesKey = Symbol('wyneos.remoteNodes');

/** @internal The supervisor's way to nodes held elsewhere, if it shares a fleet. */
export function remoteNodesOf(supervisor: Supervisor): RemoteNodes | undefined {
  return (supervisor as { [remoteNodesKey]?: RemoteNodes })[remoteNodesKey];
}
