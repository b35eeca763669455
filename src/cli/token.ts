import { Command } from 'commander';
import { InvalidArgumentError } from '../errors.js';
import { nodeToken, operatorToken, parseSecret } from '../http/index.js';
import { readFlagFile } from './parsers.js';

interface TokenFlags {
  readonly node?: string;
  readonly operator?: boolean;
  readonly secretFile: string;
}

/** `wyneos token`: prints a node's token or the operator's, derived from the server secret. */
export function tokenCommand(write: (line: string) => void): Command {
  return new Command('token')
    .description("Print a node's token or the operator's, derived from the server secret.")
    .option('--node <id>', "the node's id")
    .option('--operator', "the operator's token")
    .requiredOption('--secret-file <file>', 'the secret file `wyneos serve` was given')
    .action(async (flags: TokenFlags) => {
      if ((flags.node === undefined) === (flags.operator !== true)) {
        throw new InvalidArgumentError('wyneos token', 'give either --node <id> or --operator');
      }
      const secret = parseSecret(
        await readFlagFile(flags.secretFile, '--secret-file'),
        '--secret-file',
      );
      write(flags.node === undefined ? operatorToken(secret) : nodeToken(secret, flags.node));
    });
}
