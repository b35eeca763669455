import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { type DistributedSupervisor, startDistributedSupervisor } from '../../src/nats/index.js';
import { eventually, natsServerPath, startNatsServer } from './server.js';

// A supervisor started before its NATS server (a host booting, the README's set-up pasted at
// once) waits for it, saying so, rather than exiting on the first refused connection.

describe.skipIf(natsServerPath === undefined)(
  'nats: a supervisor started before its server',
  () => {
    it('waits, logs each retry, and takes its shards once the server is up', async () => {
      const server = await startNatsServer();
      const warnings: Array<{ msg: string; retryInMs: number }> = [];
      const logger = pino(
        { level: 'warn' },
        { write: (line: string) => warnings.push(JSON.parse(line)) },
      );
      let started: Promise<DistributedSupervisor> | undefined;
      await server.restart(async () => {
        started = startDistributedSupervisor({
          ...{ nats: server.url, shards: 2, supervisorId: 's-1', logger },
          ...{ tickMs: 200, leaseMs: 2000 },
        });
        await eventually(
          () => warnings.length,
          (n) => n >= 2,
        );
      });
      const sup = await (started as Promise<DistributedSupervisor>);
      try {
        await eventually(
          () => sup.shards().length,
          (n) => n === 2,
        );
        expect(warnings[0]?.msg).toBe(
          `Cannot connect to NATS at ${server.url}: connection refused`,
        );
        // Backing off, not spinning.
        expect(warnings[1]?.retryInMs).toBeGreaterThan(warnings[0]?.retryInMs ?? 0);
      } finally {
        await sup.stop();
        await server.stop();
      }
    });
  },
);
