import { InvalidExemptionError } from '../errors.js';
import { show } from '../show.js';
import type { NodeSnapshot } from '../types.js';
import { matchesSelector, selectorProblem } from './selector.js';
import type { Exemption, LabelSelector } from './types.js';

/** What `sup.exempt` takes: a rule, a node or a selector, an expiry and a reason. */
export interface ExemptionRequest {
  readonly ruleId: string;
  readonly nodeId?: string;
  readonly selector?: LabelSelector;
  /** When it expires: ms on the supervisor's clock, a `Date`, or an ISO 8601 string. */
  readonly until: number | Date | string;
  readonly reason: string;
}

/**
 * @internal The active exemptions. Expired ones are dropped whenever the list is read, so an
 * exemption ends on its own without a timer.
 */
export class Exemptions {
  private active: Exemption[] = [];
  private nextId = 1;

  add(request: ExemptionRequest, now: number, knownRule: (ruleId: string) => boolean): Exemption {
    const r = request as unknown as Record<string, unknown>;
    if (typeof r !== 'object' || r === null)
      throw new InvalidExemptionError('', 'expected an object');
    if (typeof r.ruleId !== 'string' || !knownRule(r.ruleId)) {
      throw new InvalidExemptionError(
        'ruleId',
        `no rule ${JSON.stringify(r.ruleId)} in the current policy`,
      );
    }
    if ((r.nodeId === undefined) === (r.selector === undefined)) {
      throw new InvalidExemptionError('nodeId', 'give exactly one of nodeId and selector');
    }
    if (r.nodeId !== undefined && typeof r.nodeId !== 'string') {
      throw new InvalidExemptionError('nodeId', 'expected a string');
    }
    const problem = r.selector === undefined ? undefined : selectorProblem(r.selector);
    if (problem !== undefined) throw new InvalidExemptionError('selector', problem);
    const until = toTime(r.until);
    if (until === undefined || until <= now) {
      throw new InvalidExemptionError(
        'until',
        `expected a time after now (${now}), got ${show(r.until)}`,
      );
    }
    if (typeof r.reason !== 'string' || r.reason.trim() === '') {
      throw new InvalidExemptionError('reason', 'expected a non-empty string: say why');
    }
    const exemption: Exemption = {
      id: `exemption-${this.nextId++}`,
      ruleId: r.ruleId,
      ...(r.nodeId === undefined ? {} : { nodeId: r.nodeId as string }),
      ...(r.selector === undefined ? {} : { selector: r.selector as LabelSelector }),
      until,
      reason: r.reason,
    };
    this.active.push(exemption);
    return exemption;
  }

  /** The exemptions still in force at `now`. */
  list(now: number): readonly Exemption[] {
    if (this.active.some((e) => e.until <= now))
      this.active = this.active.filter((e) => e.until > now);
    return this.active;
  }

  remove(id: string): boolean {
    const before = this.active.length;
    this.active = this.active.filter((e) => e.id !== id);
    return this.active.length < before;
  }
}

/** @internal The first exemption of a list that covers a node. */
export function exemptionFor(
  exemptions: readonly Exemption[],
  node: NodeSnapshot,
): Exemption | undefined {
  for (const e of exemptions) {
    if (
      e.nodeId !== undefined ? e.nodeId === node.id : matchesSelector(e.selector ?? {}, node.labels)
    ) {
      return e;
    }
  }
  return undefined;
}

function toTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.getTime();
  if (typeof value === 'string') {
    const time = Date.parse(value);
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}
