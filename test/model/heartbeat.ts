import type fc from 'fast-check';
import { expectAgreement, expectOutcome } from './assertions.js';
import type { FleetModel } from './model.js';
import type { Real } from './real.js';

/**
 * One heartbeat sent by hand, between the ones the simulated machine sends every tick: with a
 * load of its own, or resending the last seq (a duplicate, which the supervisor drops). A load
 * over 1 makes it malformed.
 */
export class HeartbeatCommand implements fc.Command<FleetModel, Real> {
  constructor(
    readonly nodeId: string,
    readonly load: number,
    readonly resend: boolean,
  ) {}

  /** A resend needs a heartbeat to resend. */
  check(model: Readonly<FleetModel>): boolean {
    return !this.resend || model.nodes.get(this.nodeId)?.seq !== undefined;
  }

  run(model: FleetModel, real: Real): void {
    const last = model.nodes.get(this.nodeId)?.seq;
    const seq = this.resend && last !== undefined ? last : (last ?? 0) + 1;
    const heartbeat = { nodeId: this.nodeId, seq, load: this.load };
    const outcome = model.heartbeat(this.nodeId, seq, this.load);
    expectOutcome(() => real.sup.heartbeat(heartbeat), outcome);
    expectAgreement(model, real);
  }

  toString(): string {
    if (this.load > 1) return `${this.nodeId} sends a malformed heartbeat (load ${this.load})`;
    if (this.resend) return `${this.nodeId} beats again with its last seq (load ${this.load})`;
    return `${this.nodeId} beats once (load ${this.load})`;
  }
}
