import type { NatsConnection } from '@nats-io/nats-core';
import { type Logger, pino } from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { SimulatedClock } from 'wyneos/testing';
import { startDistributedWith } from '../../src/nats/distributed.js';
import {
  connectNats,
  type DistributedOptions,
  type DistributedSupervisor,
} from '../../src/nats/index.js';
import { eventually, type NatsServer, startNatsServer } from './server.js';

// Kept apart from server.ts, which the benches import outside vitest.

/** What {@link natsPerTest} and {@link natsPerFile} give the tests. */
export interface NatsPerTest {
  readonly server: NatsServer;
  /** A plain client of the server (no credentials). */
  readonly nc: NatsConnection;
  /** The supervisors the tests start: crashed after them. */
  readonly started: DistributedSupervisor[];
}

/** A fresh nats-server and a client connection for each test of the calling `describe`. */
export function natsPerTest(): NatsPerTest {
  return natsAround(beforeEach, afterEach);
}

/** One nats-server and a client connection for all the tests of the calling `describe`. */
export function natsPerFile(): NatsPerTest {
  return natsAround(beforeAll, afterAll);
}

function natsAround(
  before: (run: () => Promise<void>) => void,
  after: (run: () => Promise<void>) => void,
): NatsPerTest {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  const started: DistributedSupervisor[] = [];
  before(async () => {
    server = await startNatsServer();
    nc = await connectNats(server.url);
  });
  after(async () => {
    await nc?.close();
    await Promise.all(started.splice(0).map((s) => s.crash().catch(() => {})));
    await server?.stop();
  });
  return {
    get server() {
      return server as NatsServer;
    },
    get nc() {
      return nc as NatsConnection;
    },
    started,
  };
}

/**
 * A supervisor of a one-shard fleet on a simulated clock (ticks only when a test asks), holding
 * its shard; `register` is a node it registers then. `proposed` collects its action ids from
 * then on. Lease scans run every `tickMs` of real time, and requests time out after it.
 */
export async function startOneShard(
  nats: NatsPerTest,
  supervisorId: string,
  options: { readonly tickMs?: number; readonly logger?: Logger; readonly register?: string } = {},
) {
  const { tickMs = 60_000, logger = pino({ level: 'silent' }), register } = options;
  const supervisor = await startDistributedWith(
    {
      nats: nats.server.url,
      supervisorId,
      shards: 1,
      tickMs,
      leaseMs: 60_000,
      heartbeatTimeoutMs: 600_000,
      logger,
    },
    { clock: new SimulatedClock() },
  );
  nats.started.push(supervisor);
  await eventually(
    () => supervisor.shards(),
    (held) => held.length === 1,
  );
  if (register !== undefined) {
    supervisor.supervisor.register({ id: register, labels: {} });
    await supervisor.supervisor.durable();
  }
  const proposed: string[] = [];
  supervisor.supervisor.actions$.subscribe((action) => {
    if (action.status === 'proposed') proposed.push(action.id);
  });
  return { ...supervisor, proposed };
}

/**
 * Supervisors of one fleet, named `ids`, started together on `clock` with `options`; resolves
 * once each holds its even share of the shards.
 */
export async function startSharing(
  nats: NatsPerTest,
  ids: readonly string[],
  options: Omit<DistributedOptions, 'nats' | 'supervisorId'> & { readonly shards: number },
  clock: SimulatedClock,
): Promise<DistributedSupervisor[]> {
  const sups = await Promise.all(
    ids.map((supervisorId) =>
      startDistributedWith({ ...options, nats: nats.server.url, supervisorId }, { clock }),
    ),
  );
  nats.started.push(...sups);
  await eventually(
    async () => {
      await Promise.all(sups.map((s) => s.scan()));
      return sups.map((s) => s.shards().length);
    },
    (counts) => counts.every((n) => n === options.shards / ids.length),
  );
  return sups;
}
