import type fc from 'fast-check';
import { expect } from 'vitest';
import { expectAgreement, expectOutcome } from './assertions.js';
import type { FleetModel } from './model.js';
import type { Real } from './real.js';

/** An operator isolates a node (a no-op when it already is); an unknown id is an error. */
export class IsolateCommand implements fc.Command<FleetModel, Real> {
  constructor(readonly nodeId: string) {}

  check(): boolean {
    return true;
  }

  run(model: FleetModel, real: Real): void {
    const view = expectOutcome(() => real.sup.isolate(this.nodeId), model.isolate(this.nodeId));
    if (view !== undefined) expect(view.state).toBe('isolated');
    expectAgreement(model, real);
  }

  toString(): string {
    return `operator isolates ${this.nodeId}`;
  }
}
