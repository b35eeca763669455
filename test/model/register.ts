import type fc from 'fast-check';
import { expect } from 'vitest';
import { expectAgreement, expectOutcome } from './assertions.js';
import type { FleetModel } from './model.js';
import type { Real } from './real.js';

/** Registers a node; a taken id and a node the admission rules refuse are predicted errors. */
export class RegisterCommand implements fc.Command<FleetModel, Real> {
  constructor(
    readonly nodeId: string,
    readonly zone: string | undefined,
    readonly version: string | undefined,
  ) {}

  check(): boolean {
    return true;
  }

  run(model: FleetModel, real: Real): void {
    const labels: Record<string, string> = this.zone === undefined ? {} : { zone: this.zone };
    const outcome = model.register(this.nodeId, labels, this.version);
    const registration = {
      id: this.nodeId,
      labels,
      ...(this.version === undefined ? {} : { version: this.version }),
    };
    const view = expectOutcome(() => real.sup.register(registration), outcome);
    if (view !== undefined) expect(view.state).toBe('online');
    expectAgreement(model, real);
  }

  toString(): string {
    const labels = this.zone === undefined ? '{}' : `{zone: ${this.zone}}`;
    const version = this.version === undefined ? '(no version)' : `v${this.version}`;
    return `register ${this.nodeId} ${labels} ${version}`;
  }
}
