import type fc from 'fast-check';
import { expectAgreement } from './assertions.js';
import type { FleetModel } from './model.js';
import type { Real } from './real.js';

/** What can happen to a simulated machine, and how it then beats. */
export const faults = {
  crash: { beating: false, load: 0, says: 'crashes (stops beating)' },
  overload: { beating: true, load: 0.95, says: 'runs hot (load 0.95)' },
  peak: { beating: true, load: 0.9, says: 'runs at the high mark (load 0.9)' },
  warm: { beating: true, load: 0.7, says: 'runs warm (load 0.7: between the marks)' },
  cool: { beating: true, load: 0.5, says: 'cools to the low mark (load 0.5)' },
  recover: { beating: true, load: 0.2, says: 'recovers (beats at load 0.2)' },
} as const;

export type Fault = keyof typeof faults;

/**
 * Changes what a registered node's machine does from now on: crash, run at some load, or
 * recover. Nothing reaches the supervisor until the machine's next heartbeat, or its silence.
 */
export class InjectFaultCommand implements fc.Command<FleetModel, Real> {
  constructor(
    readonly nodeId: string,
    readonly fault: Fault,
  ) {}

  check(model: Readonly<FleetModel>): boolean {
    return model.nodes.has(this.nodeId);
  }

  run(model: FleetModel, real: Real): void {
    const node = model.nodes.get(this.nodeId);
    if (node === undefined) throw new Error(`${this.nodeId} is not registered`);
    node.beating = faults[this.fault].beating;
    node.beatLoad = faults[this.fault].load;
    expectAgreement(model, real);
  }

  toString(): string {
    return `${this.nodeId} ${faults[this.fault].says}`;
  }
}
