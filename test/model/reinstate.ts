import type fc from 'fast-check';
import { expect } from 'vitest';
import { expectAgreement, expectOutcome } from './assertions.js';
import type { FleetModel } from './model.js';
import type { Real } from './real.js';

/** An operator reinstates a node (a no-op unless it is isolated); an unknown id is an error. */
export class ReinstateCommand implements fc.Command<FleetModel, Real> {
  constructor(readonly nodeId: string) {}

  check(): boolean {
    return true;
  }

  run(model: FleetModel, real: Real): void {
    const outcome = model.reinstate(this.nodeId);
    const view = expectOutcome(() => real.sup.reinstate(this.nodeId), outcome);
    if (view !== undefined) expect(view.state).toBe(model.nodes.get(this.nodeId)?.state);
    expectAgreement(model, real);
  }

  toString(): string {
    return `operator reinstates ${this.nodeId}`;
  }
}
