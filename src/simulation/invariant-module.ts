import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidArgumentError } from '../errors.js';
import { show, thrownMessage } from '../show.js';
import type { Invariant } from './invariants.js';

/**
 * Loads a user's invariants from a JS/TS module: its default export, or an export named
 * `invariants`, as an array of invariants (see `defineInvariant`).
 */
export async function loadInvariantModule(path: string): Promise<Invariant[]> {
  const where = `invariants module ${path}`;
  let module: { default?: unknown; invariants?: unknown };
  try {
    module = await import(pathToFileURL(resolve(path)).href);
  } catch (error) {
    throw new InvalidArgumentError(where, `importing it failed: ${thrownMessage(error)}`);
  }
  const list = module.default ?? module.invariants;
  if (!Array.isArray(list)) {
    throw new InvalidArgumentError(
      where,
      `expected a default export (or one named invariants) that is an array, got ${show(list)}`,
    );
  }
  list.forEach((item: Partial<Invariant> | null, i) => {
    if (typeof item?.name !== 'string' || typeof item.monitor !== 'function') {
      throw new InvalidArgumentError(
        `${where} [${i}]`,
        'expected an invariant: { name, description, monitor(context, violated) }',
      );
    }
  });
  return list as Invariant[];
}
