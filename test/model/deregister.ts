import type fc from 'fast-check';
import { expectAgreement, expectOutcome } from './assertions.js';
import type { FleetModel } from './model.js';
import type { Real } from './real.js';

/** Deregisters a node; an unknown id is a predicted error. */
export class DeregisterCommand implements fc.Command<FleetModel, Real> {
  constructor(readonly nodeId: string) {}

  check(): boolean {
    return true;
  }

  run(model: FleetModel, real: Real): void {
    expectOutcome(() => real.sup.deregister(this.nodeId), model.deregister(this.nodeId));
    expectAgreement(model, real);
  }

  toString(): string {
    return `deregister ${this.nodeId}`;
  }
}
