import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { parseDuration } from '../duration.js';
import { InvalidArgumentError } from '../errors.js';
import { commandHook } from '../healing/index.js';
import type { AccessLog } from '../http/access-log.js';
import { parseMetricsToken } from '../http/routes/metrics.js';
import type { SupervisorOptions } from '../supervisor/index.js';
import type { RemediationActionType } from '../types.js';
import { commandLine, readFlagFile } from './parsers.js';

/** The flags of `wyneos serve`, as commander parsed them; every one is optional. */
export interface ServeFlags {
  readonly config?: string;
  readonly host?: string;
  readonly port?: number;
  readonly secretFile?: string;
  readonly metricsToken?: string;
  readonly policy?: string;
  readonly logLevel?: string;
  readonly heartbeatRate?: number;
  readonly heartbeatBurst?: number;
  readonly bodyLimit?: number;
  readonly maxSseClients?: number;
  readonly sseReplay?: number;
  readonly accessLog?: AccessLog;
  readonly tick?: number;
  readonly heartbeatTimeout?: number;
  readonly detector?: string;
  readonly lateTolerance?: number;
  readonly overloadHigh?: number;
  readonly overloadLow?: number;
  readonly overloadTicks?: number;
  readonly ruleBudget?: number;
  readonly admission?: string;
  readonly maxIsolatedFraction?: number;
  readonly partitionFraction?: number;
  readonly maxActionsPerTick?: number;
  readonly maxIsolationsPerMinute?: number;
  readonly maxNodes?: number;
  readonly hookTimeout?: number;
  readonly hookRetries?: number;
  readonly hookBackoff?: number;
  readonly onIsolate?: string;
  readonly onReduceLoad?: string;
  readonly onReinstate?: string;
  readonly onWarn?: string;
  readonly onRecover?: string;
  readonly onPropagate?: string;
  readonly stateDir?: string;
  readonly recover?: boolean;
  readonly record?: string;
  readonly recordMaxBytes?: number;
  readonly inspectLog?: string;
  readonly licenceKey?: readonly string[];
  readonly licenceOptional?: boolean;
  readonly licenceGrace?: number;
  readonly licenceWarn?: number;
  readonly nats?: string;
  readonly shards?: number;
  readonly lease?: number;
  readonly supervisorId?: string;
  readonly replicas?: number;
}

/** Everything `wyneos serve` needs, flags over the config file over the defaults. */
export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly secretFile: string | undefined;
  /** The bearer token `GET /metrics` asks for; undefined: it is open. */
  readonly metricsToken: string | undefined;
  readonly policyFile: string | undefined;
  readonly logLevel: string;
  readonly heartbeatRate: { readonly perSecond?: number; readonly burst?: number };
  readonly bodyLimit: number | undefined;
  readonly maxSseClients: number | undefined;
  readonly sseReplay: number | undefined;
  readonly accessLog: AccessLog | undefined;
  /** Share the fleet with other supervisors through this NATS server; undefined: alone. */
  readonly nats:
    | {
        readonly url: string;
        readonly shards?: number;
        readonly leaseMs?: number;
        readonly supervisorId?: string;
        readonly replicas?: number;
      }
    | undefined;
  /** createSupervisor's options, but for the logger and the policy (read from `policyFile`). */
  readonly supervisor: SupervisorOptions;
}

export const serveDefaults = { host: '127.0.0.1', port: 7070, logLevel: 'info' } as const;

const serverKeys = [
  'host',
  'port',
  'secretFile',
  'metricsToken',
  'policy',
  'logLevel',
  'heartbeatRate',
  'bodyLimit',
] as const;
// Options that are code, not data, or that serve sets itself.
const notInConfig = [
  'rules',
  'policy',
  'logger',
  'clock',
  'inspect',
  'stateStore',
  'auditLog',
] as const;
const hookFlags: ReadonlyArray<[keyof ServeFlags, RemediationActionType]> = [
  ['onIsolate', 'isolate'],
  ['onReduceLoad', 'reduce-load'],
  ['onReinstate', 'reinstate'],
  ['onWarn', 'warn'],
  ['onRecover', 'recover'],
  ['onPropagate', 'propagate'],
];

/**
 * Reads the config file (YAML or JSON: a `server` section and a `supervisor` section with any
 * createSupervisor option, durations as `3s` or ms) and lays the flags over it. Paths in the
 * file are relative to the file. Option values are checked by createSupervisor.
 */
export async function resolveServeConfig(flags: ServeFlags): Promise<ServeConfig> {
  const file = flags.config === undefined ? {} : await readConfigFile(flags.config);
  const server = section(file, 'server', flags.config);
  for (const key of Object.keys(server)) {
    if (!(serverKeys as readonly string[]).includes(key)) {
      throw new InvalidArgumentError(
        `config server.${key}`,
        `is not a server setting; the settings are ${serverKeys.join(', ')}`,
      );
    }
  }
  const base = flags.config === undefined ? process.cwd() : dirname(resolve(flags.config));
  const pathIn = (value: unknown, name: string) =>
    value === undefined ? undefined : resolve(base, text(value, `config server.${name}`));

  const supervisor = withDurations(section(file, 'supervisor', flags.config), 'supervisor');
  for (const key of notInConfig) {
    if (key in supervisor) {
      throw new InvalidArgumentError(
        `config supervisor.${key}`,
        'cannot be set in a config file; give a policy file as server.policy or --policy',
      );
    }
  }
  const onAction = { ...commandHooks(supervisor.onAction), ...flagHooks(flags) };
  const rate = (server.heartbeatRate ?? {}) as ServeConfig['heartbeatRate'];
  if (flags.nats === undefined) {
    for (const flag of ['shards', 'lease', 'supervisorId', 'replicas'] as const) {
      if (flags[flag] !== undefined)
        throw new InvalidArgumentError(`--${kebab(flag)}`, 'needs --nats');
    }
  } else if (flags.stateDir !== undefined || supervisor.stateDir !== undefined) {
    throw new InvalidArgumentError(
      '--state-dir',
      'a supervisor on NATS keeps its state in NATS: give --nats or --state-dir, not both',
    );
  }
  return {
    nats:
      flags.nats === undefined
        ? undefined
        : {
            url: flags.nats,
            ...defined({
              shards: flags.shards,
              leaseMs: flags.lease,
              supervisorId: flags.supervisorId,
              replicas: flags.replicas,
            }),
          },
    host: flags.host ?? (server.host as string | undefined) ?? serveDefaults.host,
    port: flags.port ?? (server.port as number | undefined) ?? serveDefaults.port,
    secretFile: flags.secretFile ?? pathIn(server.secretFile, 'secretFile'),
    metricsToken:
      flags.metricsToken !== undefined
        ? parseMetricsToken(flags.metricsToken, '--metrics-token')
        : server.metricsToken !== undefined
          ? parseMetricsToken(server.metricsToken, 'config server.metricsToken')
          : undefined,
    policyFile: flags.policy ?? pathIn(server.policy, 'policy'),
    logLevel: flags.logLevel ?? (server.logLevel as string | undefined) ?? serveDefaults.logLevel,
    heartbeatRate: {
      ...rate,
      ...defined({ perSecond: flags.heartbeatRate, burst: flags.heartbeatBurst }),
    },
    bodyLimit: flags.bodyLimit ?? (server.bodyLimit as number | undefined),
    maxSseClients: flags.maxSseClients,
    sseReplay: flags.sseReplay,
    accessLog: flags.accessLog,
    supervisor: {
      ...supervisor,
      ...defined({
        tickMs: flags.tick,
        heartbeatTimeoutMs: flags.heartbeatTimeout,
        detector: flags.detector,
        lateToleranceMs: flags.lateTolerance,
        ruleBudgetMs: flags.ruleBudget,
        admission: flags.admission,
        stateDir:
          flags.stateDir ??
          (supervisor.stateDir === undefined
            ? undefined
            : resolve(base, text(supervisor.stateDir, 'config supervisor.stateDir'))),
        recover: flags.recover,
        maxNodes: flags.maxNodes,
        record: recordFlags(flags),
      }),
      overload: {
        ...(supervisor.overload as object),
        ...defined({
          high: flags.overloadHigh,
          low: flags.overloadLow,
          ticks: flags.overloadTicks,
        }),
      },
      safety: {
        ...(supervisor.safety as object),
        ...defined({
          maxIsolatedFraction: flags.maxIsolatedFraction,
          partitionFraction: flags.partitionFraction,
          maxActionsPerTick: flags.maxActionsPerTick,
          maxIsolationsPerMinute: flags.maxIsolationsPerMinute,
        }),
      },
      hooks: {
        ...(supervisor.hooks as object),
        ...defined({
          timeoutMs: flags.hookTimeout,
          retries: flags.hookRetries,
          backoffMs: flags.hookBackoff,
        }),
      },
      onAction,
    } as SupervisorOptions,
  };
}

function recordFlags(flags: ServeFlags): SupervisorOptions['record'] {
  if (flags.record === undefined) {
    if (flags.recordMaxBytes !== undefined) {
      throw new InvalidArgumentError('--record-max-bytes', 'needs --record');
    }
    return undefined;
  }
  return {
    dir: flags.record,
    ...(flags.recordMaxBytes === undefined ? {} : { maxBytes: flags.recordMaxBytes }),
  };
}

async function readConfigFile(path: string): Promise<Record<string, unknown>> {
  const content = (await readFlagFile(path, '--config')).toString('utf8');
  let value: unknown;
  try {
    value = parseYaml(content); // JSON is YAML too
  } catch (error) {
    throw new InvalidArgumentError(
      '--config',
      `${path} is not YAML or JSON: ${(error as Error).message}`,
    );
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new InvalidArgumentError(
      '--config',
      `${path} must hold an object with server and supervisor sections`,
    );
  }
  for (const key of Object.keys(value)) {
    if (key !== 'server' && key !== 'supervisor') {
      throw new InvalidArgumentError(
        `config ${key}`,
        'is not a section; the sections are server and supervisor',
      );
    }
  }
  return value as Record<string, unknown>;
}

function section(file: Record<string, unknown>, name: string, path: string | undefined) {
  const value = file[name] ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidArgumentError(`config ${name}`, `must be an object in ${path}`);
  }
  return value as Record<string, unknown>;
}

/** Every `...Ms` entry given as text (`3s`) becomes ms, at any depth. */
function withDurations(value: Record<string, unknown>, path: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) {
    if (key.endsWith('Ms') && typeof entry === 'string') {
      out[key] = parseDuration(entry, `config ${path}.${key}`);
    } else if (typeof entry === 'object' && entry !== null && !Array.isArray(entry)) {
      out[key] = withDurations(entry as Record<string, unknown>, `${path}.${key}`);
    } else out[key] = entry;
  }
  return out;
}

/** `onAction` in the config file: per action type, `{ command, args?, timeoutMs?, env? }`. */
function commandHooks(input: unknown): Record<string, unknown> {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null) {
    throw new InvalidArgumentError(
      'config supervisor.onAction',
      'expected commands by action type',
    );
  }
  return Object.fromEntries(
    Object.entries(input).map(([type, spec]) => [type, commandHook(spec as never)]),
  );
}

/** The `--on-<action>` flags. */
function flagHooks(flags: ServeFlags): Record<string, unknown> {
  const hooks: Record<string, unknown> = {};
  for (const [flag, type] of hookFlags) {
    const line = flags[flag];
    if (typeof line === 'string') hooks[type] = commandLine(line);
  }
  return hooks;
}

function text(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new InvalidArgumentError(name, 'expected a path');
  }
  return value;
}

function defined<T extends object>(values: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(values).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
