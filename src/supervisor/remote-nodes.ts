import type { Labels, NodeState } from '../types.js';
import type { Supervisor } from './types.js';

/**
 * What a supervisor that shares its fleet (NATS) knows of a node another supervisor holds: its
 * record as the holder last saved it, never more. `source` says where that came from and how old
 * it is; the live figures (load, trust, rule results) are the holder's alone.
 */
export interface RemoteNodeView {
  readonly node: {
    readonly id: string;
    readonly labels: Labels;
    readonly version?: string;
    readonly registeredAt: number;
    readonly state: NodeState;
    readonly since: number;
    readonly reason: string;
    readonly isolations: number;
    readonly reinstateAt: number | null;
    readonly probationUntil: number | null;
    readonly protected: boolean;
    readonly pinned: boolean;
  };
  readonly source: {
    /** The shared state store (NATS KV), written by the holder on each change of the node. */
    readonly kind: 'shared-state';
    /** The supervisor holding the node's shard now, or null while none does. */
    readonly holder: string | null;
    /** The revision of the record read. */
    readonly revision: number;
    /** When the holder wrote it, ms since the epoch (the NATS server's clock). */
    readonly writtenAt: number;
    /** How long before the answer it was written (this host's clock against the server's). */
    readonly ageMs: number;
  };
}

/** @internal Reads nodes held by other supervisors (see RemoteNodeView). */
export interface RemoteNodes {
  node(nodeId: string): Promise<RemoteNodeView | undefined>;
}

/** @internal Where a shared supervisor keeps its RemoteNodes, for the HTTP API to find. */
export const remoteNodesKey = Symbol('wyneos.remoteNodes');

/** @internal The supervisor's view of nodes held elsewhere, if it shares a fleet. */
export function remoteNodesOf(supervisor: Supervisor): RemoteNodes | undefined {
  return (supervisor as { [remoteNodesKey]?: RemoteNodes })[remoteNodesKey];
}
