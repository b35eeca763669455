import {
  InvalidHeartbeatError,
  UnauthenticatedError,
  WyneosError,
  type WyneosError as WyneosErrorType,
} from '../errors.js';
import type { Authenticator } from '../http/auth.js';
import type { HeartbeatResult, Supervisor } from '../supervisor/index.js';

/**
 * What a relay publishes on `wyneos.relay.<shard>.<relay>`: up to its batch size of heartbeats,
 * each with the token of the node it speaks for (the node's HTTP token, `nodeToken`).
 */
export interface RelayBatch {
  readonly items: ReadonlyArray<{ readonly token: string; readonly heartbeat: unknown }>;
}

/** What became of a relayed batch's items. */
export interface RelayOutcome {
  accepted: number;
  refused: number;
  /** Items whose token does not prove the node they name: a relay speaking for others. */
  impersonation: number;
  unknown: string[];
}

const codec = new TextDecoder();

/**
 * Ingests one relayed batch through the supervisor's heartbeat path. Each item stands alone: its
 * token must be the node's (else it is refused as impersonation and reaches nothing), its node
 * must belong to the subject's shard, and the rest (validation, impersonation between nodes,
 * unknown, rate, stale, trust) is the path's, with the token's node as that item's sender.
 */
export function ingestRelayBatch(
  data: Uint8Array,
  shard: number,
  deps: {
    readonly supervisor: Supervisor;
    readonly auth: Authenticator | undefined;
    readonly shardOf: (nodeId: string) => number;
  },
): { readonly outcome: RelayOutcome; readonly results: HeartbeatResult[] } {
  const outcome: RelayOutcome = { accepted: 0, refused: 0, impersonation: 0, unknown: [] };
  const items = itemsOf(data);
  if (items === undefined) {
    outcome.refused++;
    const error = new InvalidHeartbeatError('/items', 'the message is not a relay batch');
    return { outcome, results: [{ ok: false, nodeId: undefined, error }] };
  }
  const results: HeartbeatResult[] = new Array(items.length);
  const beats: unknown[] = [];
  const senders: string[] = [];
  const at: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as { token?: unknown; heartbeat?: unknown } | null;
    const token = typeof item === 'object' && item !== null ? item.token : undefined;
    if (typeof token !== 'string') {
      outcome.refused++;
      results[i] = refused(new InvalidHeartbeatError(`/items/${i}/token`, 'expected a string'));
      continue;
    }
    const sender = verified(token, deps.auth);
    if (sender instanceof WyneosError) {
      outcome.refused++;
      outcome.impersonation++;
      results[i] = refused(sender);
      continue;
    }
    const home = deps.shardOf(sender);
    if (home !== shard) {
      outcome.refused++;
      results[i] = refused(
        new InvalidHeartbeatError(
          `/items/${i}/token`,
          `node '${sender}' belongs to shard ${home}, not ${shard}`,
        ),
        sender,
      );
      continue;
    }
    beats.push((item as { heartbeat?: unknown }).heartbeat);
    senders.push(sender);
    at.push(i);
  }
  const taken = deps.supervisor.heartbeats(beats, { senders });
  for (let k = 0; k < taken.length; k++) {
    const result = taken[k] as HeartbeatResult;
    results[at[k] as number] = result;
    if (result.ok) outcome.accepted++;
    else if (result.error.code === 'WYNEOS_ERR_UNKNOWN_NODE') {
      outcome.unknown.push(senders[k] as string);
    } else {
      outcome.refused++;
      if (result.error.code === 'WYNEOS_ERR_FORBIDDEN') outcome.impersonation++;
    }
  }
  return { outcome, results };
}

function itemsOf(data: Uint8Array): readonly unknown[] | undefined {
  try {
    const body = JSON.parse(codec.decode(data)) as { items?: unknown } | null;
    if (typeof body === 'object' && body !== null && Array.isArray(body.items)) return body.items;
  } catch {
    // Not JSON: refused whole below, as nothing in it can be told apart.
  }
  return undefined;
}

// A node's token never changes, so one proved once is remembered: a relayed heartbeat then
// costs a map lookup, not an HMAC. Only tokens that verified are kept, so a flood of forged ones
// costs each its HMAC and no memory; the map starts over at its cap.
const provedCap = 1 << 18;
const proved = new WeakMap<Authenticator, Map<string, string>>();

// The node the token proves, or why it proves none. Without a secret the supervisor cannot tell
// a relay's own items from any node's, so it takes none of them.
function verified(token: string, auth: Authenticator | undefined): string | WyneosErrorType {
  if (auth === undefined) {
    return new UnauthenticatedError(
      'this supervisor has no secret to check relayed heartbeats with (start it with one)',
    );
  }
  let known = proved.get(auth);
  const nodeId = known?.get(token);
  if (nodeId !== undefined) return nodeId;
  try {
    const principal = auth.verify(`Bearer ${token}`);
    if (principal.kind === 'node') {
      if (known === undefined || known.size >= provedCap) {
        known = new Map();
        proved.set(auth, known);
      }
      known.set(token, principal.id);
      return principal.id;
    }
    return new UnauthenticatedError('a relayed heartbeat carries a node token, not the operator');
  } catch (error) {
    if (error instanceof WyneosError) return error;
    throw error;
  }
}

function refused(error: WyneosErrorType, nodeId?: string): HeartbeatResult {
  return { ok: false, nodeId, error };
}
