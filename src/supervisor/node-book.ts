/**
 * Where a supervisor object carries its node book, for the parts of wyneos outside
 * the supervisor that keep per-node state (the HTTP plugin's feed). Not part of the public API.
 */
export const nodeBookKey: unique symbol = Symbol('wyneos.nodeBook');

/** Per-node state a component keeps; the node book forgets a node in every one at once. */
export interface PerNodeState {
  has(nodeId: string): boolean;
  /** How many nodes it holds something for. */
  readonly size: number;
  forget(nodeId: string): void;
  /** Forgets many at once, where one by one would cost more (stopping actors in batches). */
  forgetMany?(nodeIds: readonly string[]): void;
}

/**
 * Every component that keeps something per node registers here, and a node leaves the
 * supervisor through `forget` alone: deregistration and a shard handed over go the same way, so
 * no list of what to clean up can drift from another (they had: a shard release kept trust,
 * trends and licences that a deregistration dropped).
 */
export class NodeBook {
  readonly #parts = new Map<string, PerNodeState>();

  /** Registers a component's per-node state under a name (for `holding` and `sizes`). */
  add(name: string, part: PerNodeState): void {
    if (this.#parts.has(name)) throw new Error(`node book: ${name} is registered already`);
    this.#parts.set(name, part);
  }

  /** Unregisters a component (an HTTP plugin closing). */
  remove(name: string): void {
    this.#parts.delete(name);
  }

  forget(nodeIds: readonly string[]): void {
    for (const part of this.#parts.values()) {
      if (part.forgetMany !== undefined) part.forgetMany(nodeIds);
      else for (const id of nodeIds) part.forget(id);
    }
  }

  /** The components that still hold something for `nodeId`. */
  holding(nodeId: string): string[] {
    return [...this.#parts].filter(([, part]) => part.has(nodeId)).map(([name]) => name);
  }

  /** How many nodes each component holds something for. */
  sizes(): Record<string, number> {
    return Object.fromEntries([...this.#parts].map(([name, part]) => [name, part.size]));
  }
}
