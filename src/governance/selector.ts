import type { NodeSnapshot } from '../types.js';
import type { LabelSelector } from './types.js';

/** True when every key of the selector matches the node's label (one of, for a list). */
export function matchesSelector(selector: LabelSelector, labels: NodeSnapshot['labels']): boolean {
  for (const key in selector) {
    const wanted = selector[key];
    const actual = labels[key];
    if (actual === undefined) return false;
    if (typeof wanted === 'string' ? actual !== wanted : !wanted?.includes(actual)) return false;
  }
  return true;
}

/** A selector or a predicate, as one predicate. */
export function toPredicate(
  appliesTo: LabelSelector | ((node: NodeSnapshot) => boolean),
): (node: NodeSnapshot) => boolean {
  if (typeof appliesTo === 'function') return appliesTo;
  return (node) => matchesSelector(appliesTo, node.labels);
}

/** Checks a selector's shape; returns a problem, or undefined when it is fine. */
export function selectorProblem(selector: unknown): string | undefined {
  if (typeof selector !== 'object' || selector === null || Array.isArray(selector)) {
    return 'expected an object of label values, such as { region: "eu" }';
  }
  for (const [key, value] of Object.entries(selector)) {
    const ok =
      typeof value === 'string' ||
      (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!ok) return `label ${key}: expected a string or a list of strings`;
  }
  return undefined;
}
