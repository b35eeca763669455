import type fc from 'fast-check';
import { advanceClock } from 'wyneos/testing';
import { expectAgreement, expectOutcome } from './assertions.js';
import type { FleetModel } from './model.js';
import { modelOptions, stepMs } from './options.js';
import type { Real } from './real.js';

/**
 * Lets time pass, half a tick at a time so that every tick fires at its own time. Right after
 * each tick, every simulated machine that is beating sends its heartbeat.
 */
export class AdvanceClockCommand implements fc.Command<FleetModel, Real> {
  constructor(readonly ms: number) {}

  check(): boolean {
    return true;
  }

  run(model: FleetModel, real: Real): void {
    for (let left = this.ms; left > 0; left -= stepMs) {
      advanceClock(real.clock, stepMs, modelOptions.tickMs);
      model.now += stepMs;
      if (model.now % modelOptions.tickMs !== 0) continue;
      model.runTick();
      for (const beat of model.beats()) {
        expectOutcome(
          () => real.sup.heartbeat(beat),
          model.heartbeat(beat.nodeId, beat.seq, beat.load),
        );
      }
    }
    expectAgreement(model, real);
  }

  toString(): string {
    return `advance ${this.ms} ms`;
  }
}
