import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { Command } from 'commander';
import { commandLogger } from './log-output.js';
import { durationOption, integerAtLeast, port } from './parsers.js';
import { stopOnSignals } from './shutdown.js';

interface RelayFlags {
  readonly nats: string;
  readonly id?: string;
  readonly shards: number;
  readonly host: string;
  readonly port: number;
  readonly batch: number;
  readonly interval: number;
  readonly maxQueued?: number;
  readonly logLevel: string;
}

/** `wyneos relay`: takes nodes' heartbeats over HTTP and publishes them to NATS in batches. */
export function relayCommand(): Command {
  return new Command('relay')
    .description(
      "Take nodes' heartbeats over HTTP (POST /v1/heartbeats with each node's token) and publish them to the fleet's NATS shards in batches.",
    )
    .requiredOption('--nats <url>', "the fleet's NATS server, such as nats://127.0.0.1:4222")
    .option('--id <id>', "this relay's name in its subjects (default: relay-<host>-<pid>)")
    .option('--shards <count>', "the fleet's shard count", integerAtLeast(1), 16)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', port, 7080)
    .option('--batch <count>', 'heartbeats in one NATS message at most', integerAtLeast(1), 1000)
    .addOption(durationOption('--interval <duration>', 'time between publishes', 1000, 10))
    .option(
      '--max-queued <count>',
      'queued heartbeats a shard may hold (default 10 × batch)',
      integerAtLeast(1),
    )
    .option('--log-level <level>', 'pino level', 'info')
    .action(async (flags: RelayFlags) => {
      const log = commandLogger(flags.logLevel);
      const { connectNats } = await import('../nats/connection.js');
      const { createRelay } = await import('../nats/relay.js');
      const { createRelayHttp } = await import('../nats/relay-http.js');
      const relayId = flags.id ?? `relay-${hostname()}-${process.pid}`;
      const { subjects } = await import('../nats/subjects.js');
      // Its own inbox, as a relay user's permissions allow (nats-config --relay).
      const nc = await connectNats(flags.nats, {
        name: `wyneos-${relayId}`,
        inboxPrefix: subjects.inbox(relayId),
        whileUnreachable: (problem, retryInMs) => log.warn({ retryInMs }, problem),
      });
      const relay = createRelay({
        connection: nc,
        relayId,
        shards: flags.shards,
        batchSize: flags.batch,
        intervalMs: flags.interval,
        ...(flags.maxQueued === undefined ? {} : { maxQueued: flags.maxQueued }),
      });
      const app = createRelayHttp({
        relay,
        retryAfterS: Math.max(1, Math.ceil(flags.interval / 1000)),
      });
      try {
        await app.listen({ host: flags.host, port: flags.port });
      } catch (error) {
        await relay.stop().catch(() => {});
        await nc.close();
        throw error;
      }
      const { port } = app.server.address() as AddressInfo;
      log.info({ url: `http://${flags.host}:${port}`, relay: relayId }, 'relay listening');
      stopOnSignals(async () => {
        await app.close();
        // What was queued is published before the process goes.
        await relay.stop();
        await nc.drain();
        log.info(relay.counts, 'relay stopped');
      }, log);
    });
}
