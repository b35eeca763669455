import type { KV } from '@nats-io/kv';
import { StorageError } from '../errors.js';
import type { Kept, StoredNode } from './kept-changes.js';
import { isWrongRevision } from './leases.js';
import type { Listed } from './list-keys.js';
import { keys } from './subjects.js';

const claimBatch = 64;

/** A node as a takeover wrote it. */
export interface Stamped {
  readonly value: StoredNode;
  readonly json: string;
  readonly revision: number;
}

/**
 * Rewrites every node key of a shard (as `list` lists them) with `fence`, so a former holder's
 * next write there is refused. A change in `kept` (this store's, not written when it let the shard go) is written
 * instead of KV's copy where that still carries the token the store held; the others are
 * dropped (their ids pushed to `dropped`), as another holder's writes stand. Each settled
 * change is deleted from `kept`, so a takeover that fails part way keeps the rest.
 */
export async function takeOver(
  kv: KV,
  list: (filter: string) => Promise<Listed>,
  shard: number,
  fence: number,
  kept: Map<string, Kept>,
  dropped: string[],
): Promise<Stamped[]> {
  const filter = keys.shardNodes(shard);
  const { keys: names, complete } = await list(filter);
  // A node not listed would not be stamped, nor adopted: nothing is taken over from a part.
  if (!complete) {
    throw new StorageError(
      filter,
      `Listing the nodes of shard ${shard} timed out: its takeover is tried again at the next scan`,
    );
  }
  // Stamped a batch at a time: one round trip each, but not one after another.
  const stamped: Stamped[] = [];
  for (let i = 0; i < names.length; i += claimBatch) {
    const batch = names.slice(i, i + claimBatch).map((key) => stamp(kv, key, fence, kept, dropped));
    for (const one of await Promise.all(batch)) if (one !== undefined) stamped.push(one);
  }
  stamped.push(...(await createKept(kv, shard, fence, kept, dropped)));
  return stamped;
}

/**
 * Reads one node key and rewrites it with `fence`; a node a concurrent write changed is read
 * again. A change of ours that KV lacks replaces KV's copy if that still carries the token
 * we held (nobody took the shard since); otherwise it is dropped, in `dropped`.
 */
async function stamp(
  kv: KV,
  key: string,
  fence: number,
  kept: Map<string, Kept>,
  dropped: string[],
): Promise<Stamped | undefined> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const entry = await kv.get(key);
    if (entry === null || entry.operation !== 'PUT') return undefined;
    const stored = entry.json() as StoredNode;
    const id = stored.node.id;
    const change = kept.get(id);
    const ours = change !== undefined && stored.fence === change.fence;
    try {
      if (ours && change.json === null) {
        await kv.purge(key, { previousSeq: entry.revision });
        kept.delete(id);
        return undefined;
      }
      const value: StoredNode = {
        ...(ours ? (JSON.parse(change.json as string) as StoredNode) : stored),
        fence,
      };
      const json = JSON.stringify(value);
      const revision = await kv.update(key, json, entry.revision);
      if (change !== undefined && !ours) dropped.push(id);
      kept.delete(id);
      return { value, json, revision };
    } catch (error) {
      // The former holder wrote it between our read and our stamp: its write stands (it
      // came before the fence), so read it again.
      if (!isWrongRevision(error)) throw error;
    }
  }
  throw new StorageError(key, `Cannot take ${key} over: it keeps changing under another writer`);
}

/** Creates the nodes of ours that KV never had, unless someone else did meanwhile. */
async function createKept(
  kv: KV,
  shard: number,
  fence: number,
  kept: Map<string, Kept>,
  dropped: string[],
): Promise<Stamped[]> {
  const created: Stamped[] = [];
  for (const [id, change] of kept) {
    if (change.json === null) continue;
    if (change.stored) {
      // Deleted in KV since this store knew it: by whoever held the shard meanwhile.
      dropped.push(id);
      continue;
    }
    const value: StoredNode = { ...(JSON.parse(change.json) as StoredNode), fence };
    const json = JSON.stringify(value);
    try {
      const revision = await kv.create(keys.node(shard, id), json);
      created.push({ value, json, revision });
    } catch (error) {
      if (!isWrongRevision(error)) throw error;
      dropped.push(id);
    }
  }
  return created;
}
