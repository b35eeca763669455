import { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { parseSecret } from '../http/index.js';
import { natsPassword, natsServerConfig, natsUrl, supervisorUser } from '../nats/server-config.js';
import { collect, readFlagFile } from './parsers.js';

interface NatsConfigFlags {
  readonly secretFile: string;
  readonly node?: readonly string[];
  readonly nodesFile?: string;
  readonly relay?: readonly string[];
  readonly url?: string;
  readonly supervisor?: boolean;
}

/**
 * `wyneos nats-config`: the NATS accounts of a fleet (a supervisor user, one user per node
 * limited to its own subjects), or with `--url` the URL one node or the supervisors connect with.
 * Passwords are derived from the secret, so both can be printed again at any time.
 */
export function natsConfigCommand(write: (line: string) => void): Command {
  return new Command('nats-config')
    .description(
      "Print the NATS accounts of a fleet for nats-server (nodes limited to their own subjects), or with --url a node's or the supervisors' NATS URL.",
    )
    .requiredOption('--secret-file <file>', 'the secret the passwords are derived from')
    .option('--node <id>', 'a node of the fleet (repeatable)', collect)
    .option('--nodes-file <file>', 'node ids, one a line (# starts a comment)')
    .option('--relay <id>', 'a relay of the fleet, `wyneos relay --id` (repeatable)', collect)
    .option('--url <url>', "print this server's URL with one node's or relay's credentials")
    .option('--supervisor', "with --url: the supervisors' credentials instead")
    .action(async (flags: NatsConfigFlags) => {
      const secret = parseSecret(
        await readFlagFile(flags.secretFile, '--secret-file'),
        '--secret-file',
      );
      const nodes = [...(flags.node ?? [])];
      if (flags.nodesFile !== undefined) {
        const text = (await readFlagFile(flags.nodesFile, '--nodes-file')).toString('utf8');
        for (const line of text.split('\n')) {
          const id = line.replace(/#.*/, '').trim();
          if (id !== '') nodes.push(id);
        }
      }
      if (flags.url === undefined) {
        if (flags.supervisor === true) {
          throw new InvalidArgumentError('--supervisor', 'needs --url');
        }
        write(natsServerConfig({ secret, nodes, relays: flags.relay ?? [] }).trimEnd());
        return;
      }
      const users = [...nodes, ...(flags.relay ?? [])];
      if ((flags.supervisor === true) === (users.length === 1)) {
        throw new InvalidArgumentError(
          '--url',
          'give one --node <id>, one --relay <id> or --supervisor',
        );
      }
      const user = flags.supervisor === true ? supervisorUser : (users[0] as string);
      write(natsUrl(checkUrl(flags.url), user, natsPassword(secret, user)));
    });
}

function checkUrl(url: string): string {
  if (!/^(nats|tls):\/\/[^\s@/]+$/.test(url)) {
    throw new InvalidArgumentError('--url', `expected nats://host:port, got ${url}`);
  }
  return url;
}
