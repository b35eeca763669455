import { ConnectionError, type NatsConnection, TimeoutError } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import semver from 'semver';
import { InvalidArgumentError, NatsError, NatsUnsupportedError } from '../errors.js';
import { thrownMessage } from '../show.js';

/** The oldest nats-server wyneos runs on: Debian bookworm ships 2.9.10. */
export const minimumServerVersion = '2.9.0';

/**
 * Server features wyneos refuses to pretend it has. On 2.9 a per-key TTL is silently ignored
 * (the key would live forever) and a watch of several keys at once fails, so asking for
 * either there is an error up front rather than a surprise later.
 */
export const serverFeatures = {
  multiKeyWatch: { what: 'watch several KV keys in one watch', since: '2.10.0' },
  perKeyTtl: { what: 'expire single KV keys (per-key TTL)', since: '2.11.0' },
} as const;

export type ServerFeature = keyof typeof serverFeatures;

export interface NatsConnectOptions {
  /** Shown in the server's connection list (`nats server report connections`). */
  readonly name?: string;
  /** Time limit of the first connection, in ms. @defaultValue 5000 */
  readonly timeoutMs?: number;
  /** Where replies come back (a node's own inbox, see `subjects.inbox`). @defaultValue `_INBOX` */
  readonly inboxPrefix?: string;
  /**
   * Wait for a server that refuses connections (not started yet, or restarting), calling this
   * before each retry; without it, the first refusal is an error. Credentials or a server that
   * cannot carry wyneos are errors either way.
   */
  readonly whileUnreachable?: (problem: string, retryInMs: number) => void;
}

/**
 * Connects to a NATS server and checks that it can carry wyneos: JetStream enabled, version
 * 2.9 or later. The connection reconnects forever (a restarted server is waited for, and what
 * failed meanwhile is retried by the next commit). Credentials may be given in the URL,
 * `nats://user:password@host:4222` (percent-encoded), as `wyneos nats-config --url` prints.
 */
export async function connectNats(
  url: string,
  options: NatsConnectOptions = {},
): Promise<NatsConnection> {
  if (typeof url !== 'string' || !/^(nats|tls|wss?):\/\/[^\s]+$/.test(url)) {
    throw new InvalidArgumentError('nats URL', `expected nats://host:port, got ${String(url)}`);
  }
  const { servers, shown, credentials } = credentialsOf(url);
  let nc: NatsConnection | undefined;
  for (let attempt = 1; nc === undefined; attempt++) {
    try {
      nc = await connectOnce(servers, credentials, options);
    } catch (error) {
      const problem = `Cannot connect to NATS at ${shown}: ${thrownMessage(error)}`;
      if (!(error instanceof ConnectionError) || options.whileUnreachable === undefined) {
        throw new NatsError(problem, { cause: error });
      }
      const retryInMs = Math.min(5000, 250 * 2 ** (attempt - 1));
      options.whileUnreachable(problem, retryInMs);
      await new Promise((resolve) => setTimeout(resolve, retryInMs));
    }
  }
  try {
    checkServer(nc);
  } catch (error) {
    await nc.close();
    throw error;
  }
  return nc;
}

function connectOnce(
  servers: string,
  credentials: { user: string; pass: string } | undefined,
  options: NatsConnectOptions,
): Promise<NatsConnection> {
  return connect({
    servers,
    ...credentials,
    ...(options.inboxPrefix === undefined ? {} : { inboxPrefix: options.inboxPrefix }),
    name: options.name ?? 'wyneos',
    timeout: options.timeoutMs ?? 5000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    // Otherwise the client builds an error, with a stack, for every request in case it
    // fails: a quarter of a supervisor's time registering 100,000 nodes (one KV write each).
    noAsyncTraces: true,
  });
}

// The NATS client takes no credentials from a URL: they are taken out here, and never shown.
function credentialsOf(url: string): {
  servers: string;
  shown: string;
  credentials?: { user: string; pass: string };
} {
  const parsed = URL.canParse(url) ? new URL(url) : undefined;
  if (parsed === undefined || (parsed.username === '' && parsed.password === '')) {
    return { servers: url, shown: url };
  }
  const user = decodeURIComponent(parsed.username);
  const pass = decodeURIComponent(parsed.password);
  parsed.username = '';
  parsed.password = '';
  const servers = parsed.toString().replace(/\/$/, '');
  return { servers, shown: servers, credentials: { user, pass } };
}

/** The connected server's version, such as `2.9.10`. */
export function serverVersion(nc: Pick<NatsConnection, 'info'>): string {
  return nc.info?.version ?? '0.0.0';
}

/** Throws NatsUnsupportedError unless the server has JetStream and is 2.9 or later. */
export function checkServer(nc: Pick<NatsConnection, 'info'>): void {
  const version = serverVersion(nc);
  if (!semver.valid(version) || semver.lt(version, minimumServerVersion)) {
    throw new NatsUnsupportedError('run wyneos', version, minimumServerVersion);
  }
  if (nc.info?.jetstream !== true) {
    throw new NatsUnsupportedError(
      'keep state without JetStream (start nats-server with -js)',
      version,
      `${minimumServerVersion} with JetStream`,
    );
  }
}

/** Throws NatsUnsupportedError if the server is too old for `feature`. */
export function requireServerFeature(
  nc: Pick<NatsConnection, 'info'>,
  feature: ServerFeature,
): void {
  const { what, since } = serverFeatures[feature];
  const version = serverVersion(nc);
  if (!semver.valid(version) || semver.lt(version, since)) {
    throw new NatsUnsupportedError(what, version, since);
  }
}

/** Whether a request timed out (the client may wrap its TimeoutError). */
export function isTimeout(error: unknown): boolean {
  return error instanceof TimeoutError || (error as Error | null)?.cause instanceof TimeoutError;
}
