import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type Logger, pino } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import { SimulatedClock } from 'wyneos/testing';
import { startDistributedWith } from '../../src/nats/distributed.js';
import type { DistributedSupervisor } from '../../src/nats/index.js';
import { eventually, type NatsServer, startNatsServer } from './server.js';

// Kept apart from server.ts, which the benches import outside vitest.

/** What {@link natsPerTest} gives each test. */
export interface NatsPerTest {
  readonly server: NatsServer;
  /** A plain client of the server (no credentials). */
  readonly nc: NatsConnection;
  /** The supervisors the test starts: crashed after it. */
  readonly started: DistributedSupervisor[];
}

/** A fresh nats-server and a client connection for each test of the calling `describe`. */
export function natsPerTest(): NatsPerTest {
  let server: NatsServer | undefined;
  let nc: NatsConnection | undefined;
  const started: DistributedSupervisor[] = [];
  beforeEach(async () => {
    server = await startNatsServer();
    nc = await connect({ servers: server.url });
  });
  afterEach(async () => {
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
