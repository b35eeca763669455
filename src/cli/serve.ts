import { Command, Option } from 'commander';
import { formatDuration } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import { loadPolicyFile } from '../governance/index.js';
import { createInspectionLog } from '../inspection/index.js';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import { createSupervisor, defaultOptions, type Supervisor } from '../supervisor/index.js';
import { licensingFromFlags } from './licence.js';
import { commandLogger } from './log-output.js';
import { collect, decimal, duration, integerAtLeast, port, readFlagFile } from './parsers.js';
import { resolveServeConfig, type ServeFlags, serveDefaults } from './serve-config.js';
import { stopOnSignals } from './shutdown.js';

/** A running `wyneos serve`: where it listens, and how to stop it as a signal would. */
export interface RunningServer {
  readonly url: string;
  readonly supervisor: Supervisor;
  readonly log: Logger;
  /** Stops accepting, lets requests in flight finish, stops the supervisor, flushes the log. */
  shutdown(): Promise<void>;
}

/** `wyneos serve`: a supervisor behind the HTTP API. */
export function serveCommand(): Command {
  const d = defaultOptions;
  return new Command('serve')
    .description('Run a supervisor behind the HTTP API, for nodes running `wyneos agent`.')
    .option('--config <file>', 'YAML or JSON file: a server section and a supervisor section')
    .option('--host <host>', `address to listen on (default ${serveDefaults.host})`)
    .option('--port <port>', `port; 0 picks a free one (default ${serveDefaults.port})`, port)
    .option(
      '--secret-file <file>',
      'server secret the tokens derive from (default: none, loopback only)',
    )
    .option(
      '--metrics-token <token>',
      'GET /metrics asks for Authorization: Bearer <token> (default: none, open)',
    )
    .option('--policy <file>', 'policy file (.yaml, .yml, .json, .js, .mjs)')
    .option('--log-level <level>', `pino level (default ${serveDefaults.logLevel})`)
    .option(
      '--heartbeat-rate <per-second>',
      'heartbeats a second one node may keep up, over HTTP and NATS (default 10)',
      decimal,
    )
    .option(
      '--heartbeat-burst <count>',
      'heartbeats one node may send at once (default 20)',
      integerAtLeast(1),
    )
    .option(
      '--body-limit <bytes>',
      'largest request body in bytes (default 1048576, 1 MiB)',
      integerAtLeast(1),
    )
    .option(
      '--max-sse-clients <count>',
      'event streams open at once; more get 503 (default 256)',
      integerAtLeast(1),
    )
    .option(
      '--sse-replay <events>',
      'events kept for event streams that reconnect with Last-Event-ID (default 10000)',
      integerAtLeast(1),
    )
    .addOption(
      new Option(
        '--access-log <mode>',
        'one log line a request: all, errors (4xx and 5xx) or off; accepted heartbeats at debug (default all)',
      ).choices(['all', 'errors', 'off']),
    )
    .option('--tick <duration>', `tick period (default ${formatDuration(d.tickMs)})`, duration)
    .option(
      '--heartbeat-timeout <duration>',
      `silence before offline (default ${formatDuration(d.heartbeatTimeoutMs)})`,
      duration,
    )
    .addOption(
      new Option('--detector <kind>', 'failure detector (default timeout)').choices([
        'timeout',
        'phi',
      ]),
    )
    .option(
      '--late-tolerance <duration>',
      'how late a tick may be before self-distrust (default: the tick)',
      duration,
    )
    .option(
      '--overload-high <load>',
      `overload high-water mark (default ${d.overload.high})`,
      decimal,
    )
    .option('--overload-low <load>', `recovery low-water mark (default ${d.overload.low})`, decimal)
    .option(
      '--overload-ticks <count>',
      `ticks either way (default ${d.overload.ticks})`,
      integerAtLeast(1),
    )
    .option(
      '--rule-budget <duration>',
      `time budget of one rule per tick (default ${formatDuration(d.ruleBudgetMs)})`,
      duration,
    )
    .addOption(
      new Option(
        '--admission <mode>',
        'what a node failing admission gets (default refuse)',
      ).choices(['refuse', 'isolate']),
    )
    .option(
      '--max-isolated-fraction <fraction>',
      `largest share of the fleet isolated at once; beyond it isolations are held (default ${d.safety.maxIsolatedFraction})`,
      decimal,
    )
    .option(
      '--partition-fraction <fraction>',
      `share of the fleet gone offline within a heartbeat timeout read as this supervisor cut off: automatic isolation stops (default ${d.safety.partitionFraction})`,
      decimal,
    )
    .option(
      '--max-actions-per-tick <count>',
      `most automatic actions applied in one tick; the rest are held (default ${d.safety.maxActionsPerTick})`,
      integerAtLeast(1),
    )
    .option(
      '--max-isolations-per-minute <count>',
      `most automatic isolations a minute (default ${d.safety.maxIsolationsPerMinute})`,
      integerAtLeast(1),
    )
    .option(
      '--max-nodes <count>',
      'most nodes registered at once; more are refused with 503 (default: no cap)',
      integerAtLeast(1),
    )
    .option('--hook-timeout <duration>', 'time limit of one hook attempt (default 10s)', duration)
    .option('--hook-retries <count>', 'retries of a failed hook (default 2)', integerAtLeast(0))
    .option(
      '--hook-backoff <duration>',
      'wait before the first retry, doubling (default 500ms)',
      duration,
    )
    .option(
      '--on-isolate <command>',
      'command run for each isolate action (split at spaces, no shell)',
    )
    .option('--on-reduce-load <command>', 'command run for each reduce-load action')
    .option('--on-reinstate <command>', 'command run for each reinstate action')
    .option('--on-warn <command>', 'command run for each warn action')
    .option(
      '--on-recover <command>',
      'command run for each recover action (and makes healing propose them)',
    )
    .option('--on-propagate <command>', 'command run after each isolation and reinstatement')
    .option(
      '--state-dir <dir>',
      'keep the durable state and the audit log here, and restore from it',
    )
    .option('--recover', 'start from the last good copy when the state file is corrupt')
    .option('--record <dir>', 'record every accepted input as a trace for wyneos replay')
    .option(
      '--record-max-bytes <bytes>',
      'disk bound of the trace; the oldest segments go first (default 1 GiB)',
      integerAtLeast(65_536),
    )
    .option(
      '--inspect-log <file>',
      'append every XState inspection event to this file, as JSON lines',
    )
    .option('--licence-key <file>', 'trust this public key to sign licences (repeatable)', collect)
    .option('--licence-optional', 'admit nodes that present no licence')
    .option(
      '--licence-grace <duration>',
      'time an expired or revoked licence is tolerated',
      duration,
    )
    .option('--licence-warn <duration>', 'warn this long before a licence expires', duration)
    .option(
      '--nats <url>',
      'share the fleet with other supervisors through this NATS server (state in JetStream KV)',
    )
    .option(
      '--shards <count>',
      'with --nats: shards the fleet is split into (default 16)',
      integerAtLeast(1),
    )
    .option('--lease <duration>', 'with --nats: shard lease length (default 10s)', duration)
    .option(
      '--replicas <count>',
      'with --nats: copies of the buckets and streams (state, audit) on a cluster (default 1)',
      integerAtLeast(1),
    )
    .option('--supervisor-id <id>', "with --nats: this supervisor's name (default host-pid)")
    .action(async (flags: ServeFlags) => {
      const server = await runServe(flags);
      stopOnSignals(() => server.shutdown(), server.log);
    });
}

/** Starts `wyneos serve` with these flags; resolves once it listens. */
export async function runServe(flags: ServeFlags, logger?: Logger): Promise<RunningServer> {
  const config = await resolveServeConfig(flags);
  const log = logger ?? commandLogger(config.logLevel);
  const secret =
    config.secretFile === undefined
      ? undefined
      : await readFlagFile(config.secretFile, '--secret-file');
  const { createServer, isLoopback, parseSecret } = await import('../http/index.js');
  if (secret === undefined && !isLoopback(config.host)) {
    throw new InvalidArgumentError(
      '--host',
      `${config.host} is not a loopback address: without --secret-file the server listens on loopback only`,
    );
  }
  const policy =
    config.policyFile === undefined ? undefined : await loadPolicyFile(config.policyFile);
  const inspectionLog =
    flags.inspectLog === undefined ? undefined : createInspectionLog(flags.inspectLog);
  const licensing = await licensingFromFlags(flags);
  const options = {
    // One rate for HTTP and NATS heartbeats alike (both go through the supervisor's path).
    heartbeatRate: config.heartbeatRate,
    ...config.supervisor,
    ...(licensing === undefined ? {} : { licensing }),
    ...(policy === undefined ? {} : { policy }),
    ...(inspectionLog === undefined ? {} : { inspect: inspectionLog.inspect }),
    logger: log,
  };
  // On NATS the supervisor starts itself: it must hold shards before it supervises anything.
  const distributed =
    config.nats === undefined
      ? undefined
      : await (await import('../nats/index.js')).startDistributedSupervisor({
          ...options,
          nats: config.nats.url,
          ...defined(config.nats),
          // Relayed heartbeats are proved by the nodes' tokens, which derive from this secret.
          ...(secret === undefined ? {} : { relaySecret: secret }),
        });
  const supervisor = distributed?.supervisor ?? createSupervisor(options);
  let app: Awaited<ReturnType<typeof createServer>> | undefined;
  let url: string;
  try {
    app = await createServer({
      supervisor,
      logger: log,
      heartbeatRate: config.heartbeatRate,
      ...(secret === undefined ? {} : { secret: parseSecret(secret, '--secret-file') }),
      ...(config.bodyLimit === undefined ? {} : { bodyLimit: config.bodyLimit }),
      ...(config.maxSseClients === undefined ? {} : { maxSseClients: config.maxSseClients }),
      ...(config.metricsToken === undefined ? {} : { metricsToken: config.metricsToken }),
      ...(config.sseReplay === undefined ? {} : { sseReplay: config.sseReplay }),
      ...(config.accessLog === undefined ? {} : { accessLog: config.accessLog }),
    });
    if (secret === undefined) {
      log.warn(
        { host: config.host },
        'no --secret-file: listening on loopback only, every request allowed',
      );
    }
    if (distributed === undefined) supervisor.start();
    url = await app.listen({ host: config.host, port: config.port });
  } catch (error) {
    // The port taken, say: nothing may outlive a failed start (the tick loop, the state lock),
    // and the shards leased on NATS are handed back at once, not left unheld until their
    // leases run out.
    await app?.close();
    if (distributed !== undefined) {
      log.error({ error: thrownMessage(error) }, 'serve did not start: handing its shards back');
      await distributed.stop().catch((stopError: unknown) => {
        log.warn({ error: thrownMessage(stopError) }, 'shards not all handed back');
      });
    } else {
      await supervisor.stop();
    }
    await inspectionLog?.close();
    throw error;
  }
  log.info({ url, policyVersion: supervisor.policy().version }, 'wyneos serve listening');

  let stopping: Promise<void> | undefined;
  return {
    url,
    supervisor,
    log,
    shutdown() {
      stopping ??= (async () => {
        log.info('shutting down: no new requests, finishing those in flight');
        // Stop accepting first, so no heartbeat lands on a stopped supervisor. A tick never
        // needs finishing here: each runs to its end within one turn of the event loop.
        await app.close();
        // Stops the tick loop; hooks still running finish (each within its timeout). On NATS,
        // its shards are handed over first, so the others take them without waiting.
        await (distributed?.stop() ?? supervisor.stop());
        await inspectionLog?.close();
        log.info('stopped');
        log.flush();
      })();
      return stopping;
    },
  };
}

function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([key, v]) => v !== undefined && key !== 'url'),
  ) as Partial<T>;
}
