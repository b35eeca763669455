import { InvalidArgumentError } from '../errors.js';
import { stateProblem } from './state-schema.js';
import type { DurableState, StateStore } from './types.js';

/**
 * A StateStore in memory, for tests. It keeps what a file would keep: a copy made through
 * JSON, so a test sees exactly what survives a restart (no `undefined` fields, no shared
 * objects), and it refuses the same invalid states as {@link FileStateStore}.
 *
 * @example
 * ```ts
 * const store = new MemoryStateStore();
 * const first = createSupervisor({ stateStore: store });
 * // ... isolate a node, stop, then start a second supervisor on the same store
 * ```
 */
export class MemoryStateStore implements StateStore {
  #saved: string | undefined;
  #saves = 0;

  /** Starts with `state` saved, as if a previous run had saved it. */
  constructor(state?: DurableState) {
    if (state !== undefined) this.#saved = serialise(state);
  }

  load(): DurableState | undefined {
    return this.#saved === undefined ? undefined : (JSON.parse(this.#saved) as DurableState);
  }

  save(state: DurableState): void {
    this.#saved = serialise(state);
    this.#saves++;
  }

  revision(): string | undefined {
    return this.#saved === undefined ? undefined : String(this.#saves);
  }
}

function serialise(state: DurableState): string {
  const problem = stateProblem(state);
  if (problem !== undefined) throw new InvalidArgumentError('durable state', problem);
  return JSON.stringify(state);
}
