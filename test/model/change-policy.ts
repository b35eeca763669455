import type fc from 'fast-check';
import { expectAgreement } from './assertions.js';
import type { FleetModel } from './model.js';
import { type PolicyName, policies } from './policies.js';
import type { Real } from './real.js';

/** Replaces the policy in force; rules change from the next tick, admission at once. */
export class ChangePolicyCommand implements fc.Command<FleetModel, Real> {
  constructor(readonly name: PolicyName) {}

  check(): boolean {
    return true;
  }

  run(model: FleetModel, real: Real): void {
    model.setPolicy(this.name);
    real.sup.setPolicy(policies[this.name].policy);
    expectAgreement(model, real);
  }

  toString(): string {
    const { policy, summary } = policies[this.name];
    return `policy ${policy.version}: ${summary}`;
  }
}
