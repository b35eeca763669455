import { Command } from 'commander';
import { createAgent, fileLoad } from '../agent/index.js';
import { InvalidArgumentError } from '../errors.js';
import { commandLogger } from './log-output.js';
import { collect, commandLine, durationOption, readFlagFile } from './parsers.js';

interface AgentFlags {
  readonly server?: string;
  readonly nats?: string;
  readonly id: string;
  readonly tokenFile?: string;
  readonly licenceFile?: string;
  readonly label?: readonly string[];
  readonly nodeVersion?: string;
  readonly interval: number;
  readonly timeout: number;
  readonly maxBackoff: number;
  readonly loadFile?: string;
  readonly onReduceLoad?: string;
  readonly onIsolate?: string;
  readonly logLevel: string;
}

/** `wyneos agent`: one node's side, heartbeating the host's load to `wyneos serve`. */
export function agentCommand(): Command {
  return new Command('agent')
    .description("Heartbeat this host's load to a `wyneos serve` and act on what it answers.")
    .option('--server <url>', 'the server, such as http://127.0.0.1:7070')
    .option('--nats <url>', 'or the fleet on NATS, such as nats://127.0.0.1:4222')
    .requiredOption('--id <id>', "this node's id")
    .option('--token-file <file>', "file holding this node's token (or set WYNEOS_TOKEN)")
    .option('--licence-file <file>', "file holding this node's licence (wyneos licence issue)")
    .option('--label <key=value>', 'a label of this node (repeatable)', collect)
    .option('--node-version <semver>', "this node's version")
    .addOption(durationOption('--interval <duration>', 'time between heartbeats', 1000))
    .addOption(durationOption('--timeout <duration>', 'time limit of one request', 2000))
    .addOption(durationOption('--max-backoff <duration>', 'longest wait between retries', 30_000))
    .option('--load-file <file>', 'read the load from this file on each beat instead of the host')
    .option('--on-reduce-load <command>', 'command run on a reduce-load action (split at spaces)')
    .option('--on-isolate <command>', 'command run on an isolate action (split at spaces)')
    .option('--log-level <level>', 'pino level', 'info')
    .action(async (flags: AgentFlags) => {
      const logger = commandLogger(flags.logLevel);
      if ((flags.server === undefined) === (flags.nats === undefined)) {
        throw new InvalidArgumentError('--server', 'give --server (HTTP) or --nats, one of them');
      }
      const onAction = {
        ...(flags.onReduceLoad === undefined
          ? {}
          : { 'reduce-load': commandLine(flags.onReduceLoad) }),
        ...(flags.onIsolate === undefined ? {} : { isolate: commandLine(flags.onIsolate) }),
      };
      const common = {
        nodeId: flags.id,
        intervalMs: flags.interval,
        timeoutMs: flags.timeout,
        maxBackoffMs: flags.maxBackoff,
        logger,
        labels: parseLabels(flags.label ?? []),
        ...(flags.nodeVersion === undefined ? {} : { version: flags.nodeVersion }),
        ...(flags.loadFile === undefined ? {} : { load: fileLoad(flags.loadFile) }),
        onAction,
      };
      const token = await readToken(flags.tokenFile);
      const licence =
        flags.licenceFile === undefined
          ? undefined
          : (await readFlagFile(flags.licenceFile, '--licence-file')).toString('utf8').trim();
      const agent =
        flags.nats !== undefined
          ? (await import('../nats/index.js')).createNatsAgent({ ...common, nats: flags.nats })
          : createAgent({
              ...common,
              server: flags.server as string,
              ...(token === undefined ? {} : { token }),
              ...(licence === undefined ? {} : { licence }),
            });
      agent.start();
      const stop = () => {
        void agent.stop().then(() => {
          logger.info('agent stopped');
          logger.flush();
          process.exit(0);
        });
      };
      process.once('SIGTERM', stop);
      process.once('SIGINT', stop);
    });
}

function parseLabels(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new InvalidArgumentError('--label', `expected key=value, got ${JSON.stringify(pair)}`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

async function readToken(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return process.env.WYNEOS_TOKEN || undefined;
  return (await readFlagFile(path, '--token-file')).toString('utf8').trim();
}
