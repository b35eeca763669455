import { writeFile } from 'node:fs/promises';
import { Command } from 'commander';
import type { JWK } from 'jose';
import { InvalidArgumentError, LicenceRefusedError } from '../errors.js';
import { operatorToken, parseSecret } from '../http/index.js';
import {
  checkLicence,
  generateLicenceKeys,
  issueLicence,
  type LicensingOptions,
  trustedKeys,
} from '../licensing/index.js';
import { collect, integerAtLeast, readFlagFile } from './parsers.js';

const dayMs = 86_400_000;

/** `wyneos licence keygen | issue | verify | revoke`. */
export function licenceCommand(write: (line: string) => void): Command {
  const licence = new Command('licence')
    .alias('license')
    .description('Make signing keys, issue and check signed licences, revoke them on a server.');

  licence
    .command('keygen')
    .description(
      'Write a new Ed25519 key pair: <out>.private.jwk.json (secret) and <out>.public.jwk.json.',
    )
    .option('--out <prefix>', 'path prefix of the two files', 'licence-key')
    .action(async (flags: { out: string }) => {
      const { kid, privateJwk, publicJwk } = await generateLicenceKeys();
      await writeFile(`${flags.out}.private.jwk.json`, `${JSON.stringify(privateJwk)}\n`, {
        mode: 0o600,
        flag: 'wx', // never overwrite a signing key: licences signed with it would be orphaned
      });
      await writeFile(`${flags.out}.public.jwk.json`, `${JSON.stringify(publicJwk)}\n`);
      write(kid);
    });

  licence
    .command('issue')
    .description('Print a licence (a JWT signed with EdDSA) for one node or a group of nodes.')
    .requiredOption('--key <file>', 'the private key file from keygen')
    .option('--node <id>', 'the node the licence is for')
    .option('--selector <key=value>', 'or: a label the nodes must have (repeatable)', collect)
    .option('--days <count>', 'valid for this many days from now', integerAtLeast(1), 30)
    .option('--features <names>', 'comma-separated entitlements', '')
    .option(
      '--max-nodes <count>',
      'for a group licence: how many nodes may hold it',
      integerAtLeast(1),
    )
    .option('--regions <names>', "comma-separated allowed values of the node's region label")
    .option('--issuer <name>', 'the issuer (iss)', 'wyneos')
    .option('--id <id>', 'the licence id (jti); default a random UUID')
    .action(async (flags: IssueFlags) => {
      if ((flags.node === undefined) === (flags.selector === undefined)) {
        throw new InvalidArgumentError(
          'wyneos licence issue',
          'give either --node <id> or --selector key=value',
        );
      }
      const privateJwk = await readJwk(flags.key, '--key');
      const now = Date.now();
      const token = await issueLicence({
        privateJwk,
        subject:
          flags.node === undefined
            ? { selector: labelsOf(flags.selector ?? []) }
            : { node: flags.node },
        notBefore: now,
        expiresAt: now + flags.days * dayMs,
        features: list(flags.features),
        issuer: flags.issuer,
        ...(flags.id === undefined ? {} : { id: flags.id }),
        ...(flags.maxNodes === undefined ? {} : { maxNodes: flags.maxNodes }),
        ...(flags.regions === undefined ? {} : { regions: list(flags.regions) }),
      });
      write(token);
    });

  licence
    .command('verify')
    .description(
      'Check a licence against public keys; print its claims, or why it is refused (exit 1).',
    )
    .argument('<licence-file>', 'file holding the licence')
    .requiredOption('--key <file>', 'a trusted public key file (repeatable)', collect)
    .option('--node <id>', 'check it is valid for this node')
    .option('--label <key=value>', "the node's labels (repeatable)", collect)
    .action(async (file: string, flags: { key: string[]; node?: string; label?: string[] }) => {
      const keys = trustedKeys(
        await Promise.all(flags.key.map((k) => readJwk(k, '--key'))),
        '--key',
      );
      const token = (await readFlagFile(file, '<licence-file>')).toString('utf8').trim();
      const node =
        flags.node === undefined
          ? undefined
          : { id: flags.node, labels: labelsOf(flags.label ?? []) };
      const check = checkLicence(token, keys, {
        at: Date.now(),
        ...(node === undefined ? {} : { node }),
      });
      if (!check.ok) {
        write(new LicenceRefusedError(flags.node ?? '-', check.reason, check.message).message);
        process.exitCode = 1;
        return;
      }
      write(JSON.stringify(check.licence, null, 2));
    });

  licence
    .command('revoke')
    .description('Revoke a licence on a running wyneos serve (operator).')
    .requiredOption('--server <url>', 'the server, such as http://127.0.0.1:7070')
    .requiredOption('--id <id>', 'the licence id (jti)')
    .requiredOption('--reason <text>', 'why, kept in the audit log')
    .option('--secret-file <file>', 'the server secret (for the operator token)')
    .action(async (flags: { server: string; id: string; reason: string; secretFile?: string }) => {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (flags.secretFile !== undefined) {
        const secret = parseSecret(
          await readFlagFile(flags.secretFile, '--secret-file'),
          '--secret-file',
        );
        headers.authorization = `Bearer ${operatorToken(secret)}`;
      }
      const url = new URL(
        `v1/licences/${encodeURIComponent(flags.id)}/revoke`,
        withSlash(flags.server),
      );
      const answer = await fetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify({ reason: flags.reason }),
      });
      write(await answer.text());
      if (!answer.ok) process.exitCode = 1;
    });

  return licence;
}

/** The `--licence-*` flags of `wyneos serve`, as the `licensing` option (undefined without keys). */
export async function licensingFromFlags(flags: {
  readonly licenceKey?: readonly string[];
  readonly licenceOptional?: boolean;
  readonly licenceGrace?: number;
  readonly licenceWarn?: number;
}): Promise<LicensingOptions | undefined> {
  if (flags.licenceKey === undefined) return undefined;
  const keys = await Promise.all(flags.licenceKey.map((k) => readJwk(k, '--licence-key')));
  return {
    keys,
    required: flags.licenceOptional !== true,
    ...(flags.licenceGrace === undefined ? {} : { graceMs: flags.licenceGrace }),
    ...(flags.licenceWarn === undefined ? {} : { warnBeforeMs: flags.licenceWarn }),
  };
}

interface IssueFlags {
  readonly key: string;
  readonly node?: string;
  readonly selector?: string[];
  readonly days: number;
  readonly features: string;
  readonly maxNodes?: number;
  readonly regions?: string;
  readonly issuer: string;
  readonly id?: string;
}

async function readJwk(path: string, flag: string): Promise<JWK> {
  const text = (await readFlagFile(path, flag)).toString('utf8');
  try {
    return JSON.parse(text) as JWK;
  } catch {
    throw new InvalidArgumentError(
      flag,
      `${path} is not a JSON key (a JWK from wyneos licence keygen)`,
    );
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function labelsOf(pairs: readonly string[]): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0)
      throw new InvalidArgumentError('label', `expected key=value, got ${JSON.stringify(pair)}`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return labels;
}

function withSlash(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}
