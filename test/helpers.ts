import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  type ActionRecord,
  createSupervisor,
  type RemediationAction,
  type Supervisor,
  type SupervisorOptions,
} from 'wyneos';
import { advanceClock } from 'wyneos/testing';
import { SimulatedClock } from 'xstate';

/** A pino logger that keeps every line it writes, parsed, for assertions. */
export function captureLogger(level: pino.Level = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, sink), lines };
}

export const silentLogger = pino({ level: 'silent' });

/** A supervisor on a simulated clock, started, with a silent logger unless one is given. */
export function simulatedSupervisor(options: SupervisorOptions = {}) {
  const clock = new SimulatedClock();
  const sup: Supervisor = createSupervisor({ logger: silentLogger, clock, ...options });
  sup.start();
  const tickMs = options.tickMs ?? 1000;
  return {
    sup,
    clock,
    /** Moves simulated time on by `ms`, firing every tick due on the way. */
    advance: (ms: number) => advanceClock(clock, ms, tickMs),
  };
}

/** Collects everything a stream emits. */
export function collect<T>(stream: { subscribe(next: (value: T) => void): unknown }): T[] {
  const values: T[] = [];
  stream.subscribe((value: T) => values.push(value));
  return values;
}

/** The actions a supervisor applied, as plain actions (the lifecycle fields left out). */
export function collectApplied(sup: Supervisor): RemediationAction[] {
  const actions: RemediationAction[] = [];
  sup.actions$.subscribe(({ id: _id, status, origin: _origin, ...action }: ActionRecord) => {
    if (status === 'applied') actions.push(action);
  });
  return actions;
}
