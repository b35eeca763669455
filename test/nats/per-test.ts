import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { afterEach, beforeEach } from 'vitest';
import type { DistributedSupervisor } from '../../src/nats/index.js';
import { type NatsServer, startNatsServer } from './server.js';

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
