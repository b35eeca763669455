import { Writable } from 'node:stream';
import { pino } from 'pino';
import {
  type ActionRecord,
  createSupervisor,
  type RemediationAction,
  type Supervisor,
  type SupervisorOptions,
} from 'wyneos';
import { nodeToken, operatorToken, type WyneosPluginOptions } from 'wyneos/http';
import { advanceClock } from 'wyneos/testing';
import { SimulatedClock } from 'xstate';
import { createServer } from '../src/http/index.js';

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

export const testSecret = 'a test secret that is long enough';

/**
 * A supervisor on a simulated clock behind the HTTP API as `wyneos serve` runs it (not
 * listening: use `app.inject`, or `app.listen` for a socket), with tokens for the operator and
 * for nodes.
 */
export async function httpFleet(
  options: SupervisorOptions = {},
  plugin: Partial<WyneosPluginOptions> = {},
) {
  const { sup, clock, advance } = simulatedSupervisor(options);
  const app = await createServer({
    supervisor: sup,
    logger: silentLogger,
    secret: testSecret,
    clock,
    ...plugin,
  });
  const secret = Buffer.from(testSecret);
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  return {
    sup,
    clock,
    advance,
    app,
    operator: bearer(operatorToken(secret)),
    node: (id: string) => bearer(nodeToken(secret, id)),
    async close() {
      await app.close();
      await sup.stop();
    },
  };
}
