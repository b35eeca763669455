import { InvalidArgumentError } from '../errors.js';

// Subjects and KV keys, spelled once. A node id may hold `.` and `:` (see nodeIdPattern): `.`
// separates subject tokens and `:` is not allowed in a KV key, so both are escaped, and `_`
// is the escape character, so it is escaped too. Ids of letters, digits and `-` pass unchanged.

/** A node id as one subject token and KV key segment (reversible, see `decodeId`). */
export function encodeId(nodeId: string): string {
  return nodeId.replace(/[_.:]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}

export function decodeId(token: string): string {
  return token.replace(/_([0-9a-f]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/**
 * The shard of a node: FNV-1a of its id modulo the shard count. Stable across processes,
 * releases and platforms, so every supervisor and agent agrees on it without asking.
 */
export function shardOf(nodeId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < nodeId.length; i++) {
    hash ^= nodeId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

export function checkShardCount(shards: unknown, name = 'shards'): number {
  if (typeof shards !== 'number' || !Number.isInteger(shards) || shards < 1 || shards > 4096) {
    throw new InvalidArgumentError(
      name,
      `expected an integer from 1 to 4096, got ${String(shards)}`,
    );
  }
  return shards;
}

export const subjects = {
  /** Where a node publishes its heartbeats. */
  heartbeat: (shard: number, nodeId: string) => `wyneos.hb.${shard}.${encodeId(nodeId)}`,
  /** Every heartbeat of one shard: what the shard's holder subscribes to. */
  shardHeartbeats: (shard: number) => `wyneos.hb.${shard}.*`,
  /** Where relay `relayId` publishes its batches of the shard's heartbeats. */
  relay: (shard: number, relayId: string) => `wyneos.relay.${shard}.${encodeId(relayId)}`,
  /** Every relay's batches of one shard: what the shard's holder subscribes to. */
  shardRelays: (shard: number) => `wyneos.relay.${shard}.*`,
  /** Where a node registers (request/reply, answered by the shard's holder). */
  register: (shard: number, nodeId: string) => `wyneos.reg.${shard}.${encodeId(nodeId)}`,
  shardRegistrations: (shard: number) => `wyneos.reg.${shard}.*`,
  /** Every heartbeat and registration subject of one node, whatever the shard count. */
  nodeHeartbeats: (nodeId: string) => `wyneos.hb.*.${encodeId(nodeId)}`,
  nodeRegistrations: (nodeId: string) => `wyneos.reg.*.${encodeId(nodeId)}`,
  /** Where a node is told what to do (request/reply, answered by the node). */
  enforce: (nodeId: string) => `wyneos.enforce.${encodeId(nodeId)}`,
  /**
   * Where supervisors ask the holder of a shard about its nodes (request/reply, answered by the
   * holder only): reads and commands forwarded from another supervisor's HTTP API. Only
   * supervisors may publish or subscribe here (server-config.ts).
   */
  ask: (shard: number) => `wyneos.ask.${shard}`,
  /** The audit trail of one supervisor, in the audit stream. */
  audit: (writer: string) => `wyneos.audit.${encodeId(writer)}`,
  allAudit: 'wyneos.audit.>',
  /** A shard's change stream: its node records as written since its checkpoint. */
  changes: (shard: number) => `wyneos.changes.${shard}`,
  allChanges: 'wyneos.changes.>',
  /**
   * The prefix of a node's reply subjects: an inbox of its own, so NATS permissions can let it
   * read its replies and no one else's (the default `_INBOX.>` would be everybody's).
   */
  inbox: (nodeId: string) => `_WYNEOS_INBOX.${encodeId(nodeId)}`,
} as const;

/** The node id at the end of a heartbeat, registration or enforcement subject. */
export function nodeIdOfSubject(subject: string): string {
  return decodeId(subject.slice(subject.lastIndexOf('.') + 1));
}

export const keys = {
  /** A node's registration and lifecycle (DurableNode), by shard so a shard reads at once. */
  node: (shard: number, nodeId: string) => `node.${shard}.${encodeId(nodeId)}`,
  shardNodes: (shard: number) => `node.${shard}.>`,
  /**
   * A decision for a node not yet applied by it: written before the node is told, deleted by
   * the node once it has acted, read by a node that comes back (an outbox per node).
   */
  decision: (nodeId: string, actionId: string) =>
    `decision.${encodeId(nodeId)}.${encodeId(actionId)}`,
  nodeDecisions: (nodeId: string) => `decision.${encodeId(nodeId)}.>`,
  /** Where a shard's checkpoint is: which chunks, up to which entry of its change stream. */
  checkpoint: (shard: number) => `ckpt.${shard}.head`,
  /** One chunk of a checkpoint (a JSON array of stored nodes); `gen` tells checkpoints apart. */
  checkpointChunk: (shard: number, gen: string, index: number) => `ckpt.${shard}.${gen}.${index}`,
  /** A shard's counts for the fleet-wide safety limits. */
  counts: (shard: number) => `counts.${shard}`,
  /** The fleet's settings every supervisor and agent must agree on (the shard count). */
  fleet: 'fleet.config',
  /** Counts supervisor starts fleet-wide, so action ids never repeat across supervisors. */
  boots: 'fleet.boots',
  /** In the lease bucket: a shard's lease, and a supervisor's membership. */
  lease: (shard: number) => `shard.${shard}`,
  member: (owner: string) => `member.${encodeId(owner)}`,
  members: 'member.>',
} as const;

/** In the settings bucket: what every supervisor of the fleet applies alike. */
export const settingsKeys = {
  policy: 'policy',
  exemptions: 'exemptions',
  overrides: 'overrides',
  revocations: 'revocations',
} as const;

export const buckets = {
  state: 'wyneos-state',
  leases: 'wyneos-leases',
  settings: 'wyneos-settings',
} as const;
export const auditStream = 'WYNEOS_AUDIT';
export const changesStream = 'WYNEOS_CHANGES';
