import type { NodeSnapshot } from '../types.js';
import type { RuleVerdict } from './types.js';

type Evaluate = (node: NodeSnapshot, ...rest: never[]) => RuleVerdict;

// Keyed by the `evaluate` function itself: a rule built with another `evaluate` (an override,
// a copy with its own) has none, so the test can never speak for a function it was not made for.
const quickPasses = new WeakMap<Evaluate, (node: NodeSnapshot) => boolean>();

/**
 * @internal Gives a built-in rule's `evaluate` a test that is true only where `evaluate` would
 * return `{ ok: true }`. A tick counts a pass and throws its verdict away, so with the test it
 * need not build one (a message with the load turned into text, an array of labels) for each
 * of the nodes that pass; `evaluate` still runs for the rest, and for anyone who calls it.
 */
export function withQuickPass<E extends Evaluate>(
  evaluate: E,
  passes: (node: NodeSnapshot) => boolean,
): E {
  quickPasses.set(evaluate, passes);
  return evaluate;
}

/** @internal The quick pass test `evaluate` was given, if any. */
export function quickPassOf(evaluate: Evaluate): ((node: NodeSnapshot) => boolean) | undefined {
  return quickPasses.get(evaluate);
}
