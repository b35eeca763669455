import type { InspectionEvent, Observer } from 'xstate';
import { type Clock, systemClock } from '../clock.js';
import { InvalidOptionsError } from '../errors.js';
import type { Policy } from '../governance/index.js';
import { validateRules } from '../governance/index.js';
import type {
  EscalationOptions,
  FlappingOptions,
  OverloadOptions,
  SafetyOptions,
} from '../healing/index.js';
import {
  type FailureDetector,
  type HookPolicy,
  type PredictiveOptions,
  resolveHookPolicy,
} from '../healing/index.js';
import { type ResolvedLicensing, resolveLicensing } from '../licensing/index.js';
import { createDefaultLogger, type Logger } from '../logger.js';
import { defaultRecordMaxBytes, type RecordOptions } from '../replay/recorder.js';
import { show } from '../show.js';
import type { DetectorState } from '../telemetry/index.js';
import { resolveTrust, type TrustOptions } from '../trust/index.js';
import type { ActionHooks } from './action-ledger.js';
import { resolveDetector } from './detector-option.js';
import type { HeartbeatRate } from './heartbeat-rate.js';
import { fraction, numbersIn, positiveInteger, rejectUnknown } from './option-checks.js';
import { type ResolvedStorage, resolveStorage } from './storage-options.js';
import type { SupervisorOptions } from './types.js';

function resolveRecord(input: RecordOptions | undefined): RecordOptions | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== 'object' || input === null) {
    throw new InvalidOptionsError('record', 'expected { dir, maxBytes? }');
  }
  rejectUnknown(input, new Set(['dir', 'maxBytes']), 'record.');
  if (typeof input.dir !== 'string' || input.dir.length === 0) {
    throw new InvalidOptionsError('record.dir', `must be a directory path, got ${show(input.dir)}`);
  }
  const maxBytes = positiveInteger(input.maxBytes ?? defaultRecordMaxBytes, 'record.maxBytes');
  return { dir: input.dir, maxBytes };
}

/** @internal Options with every default filled in and every value checked. */
export interface ResolvedOptions {
  readonly tickMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly overload: OverloadOptions;
  readonly policy: Policy;
  readonly ruleBudgetMs: number;
  readonly safety: SafetyOptions;
  readonly onAction: ActionHooks;
  readonly detector: FailureDetector<DetectorState>;
  /** The suspicion at which the detector declares a node failed. */
  readonly failedAt: number;
  readonly lateToleranceMs: number;
  readonly escalation: EscalationOptions;
  readonly flapping: FlappingOptions;
  readonly hooks: HookPolicy;
  readonly admission: 'refuse' | 'isolate';
  readonly logger: Logger;
  readonly clock: Clock;
  readonly inspect: Observer<InspectionEvent> | ((event: InspectionEvent) => void) | undefined;
  readonly storage: ResolvedStorage;
  readonly licensing: ResolvedLicensing | undefined;
  readonly trust: TrustOptions;
  readonly predictive: PredictiveOptions | undefined;
  /** The most nodes registered at once; undefined: no cap. */
  readonly maxNodes: number | undefined;
  /** The per-node heartbeat rate of calls that name none; undefined: unlimited. */
  readonly heartbeatRate: HeartbeatRate | undefined;
  /** Where accepted inputs are recorded; undefined: nowhere. */
  readonly record: RecordOptions | undefined;
}

/**
 * The defaults `createSupervisor` applies to the options given as numbers, each one the
 * `@defaultValue` of its option in {@link SupervisorOptions}.
 */
export const defaultOptions = {
  tickMs: 1000,
  heartbeatTimeoutMs: 3000,
  overload: { high: 0.9, low: 0.7, ticks: 3 },
  ruleBudgetMs: 25,
  admission: 'refuse',
  escalation: {
    baseMs: 30_000,
    multiplier: 2,
    maxMs: 300_000,
    jitter: 0.1,
    probationMs: 60_000,
    resetAfterMs: 3_600_000,
  },
  flapping: { maxTransitions: 6, windowMs: 60_000, holdMs: 120_000 },
  safety: {
    maxIsolatedFraction: 0.3,
    maxActionsPerTick: 1000,
    maxIsolationsPerMinute: 100,
    partitionFraction: 0.5,
  },
} as const;

const knownOptions = new Set([
  'tickMs',
  'heartbeatTimeoutMs',
  'overload',
  'rules',
  'policy',
  'ruleBudgetMs',
  'admission',
  'safety',
  'onAction',
  'hooks',
  'detector',
  'lateToleranceMs',
  'escalation',
  'flapping',
  'logger',
  'clock',
  'inspect',
  'stateDir',
  'stateStore',
  'auditLog',
  'recover',
  'licensing',
  'trust',
  'predictive',
  'maxNodes',
  'heartbeatRate',
  'record',
]);
const knownOverloadOptions = new Set(['high', 'low', 'ticks']);
const knownSafetyOptions = new Set(Object.keys(defaultOptions.safety));
const actionTypes = new Set([
  'isolate',
  'reduce-load',
  'reinstate',
  'warn',
  'recover',
  'propagate',
]);

/** @internal Merges the user's options over the defaults, failing early with a precise error. */
export function resolveOptions(options: SupervisorOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidOptionsError('options', 'expected an object');
  }
  rejectUnknown(options, knownOptions, '');
  const tickMs = positiveInteger(options.tickMs ?? defaultOptions.tickMs, 'tickMs');
  const heartbeatTimeoutMs = positiveInteger(
    options.heartbeatTimeoutMs ?? defaultOptions.heartbeatTimeoutMs,
    'heartbeatTimeoutMs',
  );
  if (heartbeatTimeoutMs <= tickMs) {
    throw new InvalidOptionsError(
      'heartbeatTimeoutMs',
      `must be greater than tickMs (${tickMs}), or a node that beats once a tick can be declared offline; a few ticks (such as ${3 * tickMs}) is usual`,
    );
  }

  const overloadInput = options.overload ?? {};
  if (typeof overloadInput !== 'object' || overloadInput === null) {
    throw new InvalidOptionsError('overload', 'expected an object like { high, low, ticks }');
  }
  rejectUnknown(overloadInput, knownOverloadOptions, 'overload.');
  const overload = {
    high: fraction(overloadInput.high ?? defaultOptions.overload.high, 'overload.high'),
    low: fraction(overloadInput.low ?? defaultOptions.overload.low, 'overload.low'),
    ticks: positiveInteger(overloadInput.ticks ?? defaultOptions.overload.ticks, 'overload.ticks'),
  };
  if (overload.low >= overload.high) {
    throw new InvalidOptionsError(
      'overload.low',
      `must be below overload.high (${overload.high}) so that a node cannot flap between states`,
    );
  }

  const logger = options.logger ?? createDefaultLogger();
  if (typeof logger?.child !== 'function') {
    throw new InvalidOptionsError('logger', 'expected a pino logger');
  }
  const clock = options.clock ?? systemClock;
  if (
    typeof clock?.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw new InvalidOptionsError('clock', 'expected { now(), setTimeout(), clearTimeout() }');
  }
  const inspect = options.inspect;
  if (inspect !== undefined && typeof inspect !== 'function' && typeof inspect !== 'object') {
    throw new InvalidOptionsError('inspect', 'expected a function or an observer');
  }

  if (options.rules !== undefined && options.policy !== undefined) {
    throw new InvalidOptionsError('rules', 'give rules or policy, not both');
  }
  const policy = options.policy ?? {
    version: 'unversioned',
    rules: validateRules(options.rules ?? []),
  };
  const ruleBudgetMs = options.ruleBudgetMs ?? defaultOptions.ruleBudgetMs;
  if (typeof ruleBudgetMs !== 'number' || !(ruleBudgetMs > 0)) {
    throw new InvalidOptionsError(
      'ruleBudgetMs',
      `must be a positive number of ms, got ${show(ruleBudgetMs)}`,
    );
  }
  const admission = options.admission ?? defaultOptions.admission;
  if (admission !== 'refuse' && admission !== 'isolate') {
    throw new InvalidOptionsError(
      'admission',
      `must be 'refuse' or 'isolate', got ${show(admission)}`,
    );
  }

  const safetyInput = options.safety ?? {};
  if (typeof safetyInput !== 'object' || safetyInput === null) {
    throw new InvalidOptionsError('safety', 'expected an object of safety limits');
  }
  rejectUnknown(safetyInput, knownSafetyOptions, 'safety.');
  const safetyDefaults = defaultOptions.safety;
  const safety = {
    maxIsolatedFraction: fraction(
      safetyInput.maxIsolatedFraction ?? safetyDefaults.maxIsolatedFraction,
      'safety.maxIsolatedFraction',
    ),
    maxActionsPerTick: positiveInteger(
      safetyInput.maxActionsPerTick ?? safetyDefaults.maxActionsPerTick,
      'safety.maxActionsPerTick',
    ),
    maxIsolationsPerMinute: positiveInteger(
      safetyInput.maxIsolationsPerMinute ?? safetyDefaults.maxIsolationsPerMinute,
      'safety.maxIsolationsPerMinute',
    ),
    partitionFraction: fraction(
      safetyInput.partitionFraction ?? safetyDefaults.partitionFraction,
      'safety.partitionFraction',
    ),
  };

  const onAction = options.onAction ?? {};
  if (typeof onAction !== 'object' || onAction === null) {
    throw new InvalidOptionsError('onAction', 'expected an object of hooks by action type');
  }
  rejectUnknown(onAction, actionTypes, 'onAction.');
  for (const [type, hook] of Object.entries(onAction)) {
    if (typeof hook !== 'function') {
      throw new InvalidOptionsError(
        `onAction.${type}`,
        'expected a function (action, { signal, attempt })',
      );
    }
  }

  const { detector, failedAt } = resolveDetector(options.detector, heartbeatTimeoutMs);
  const lateToleranceMs = options.lateToleranceMs ?? tickMs;
  if (typeof lateToleranceMs !== 'number' || !(lateToleranceMs > 0)) {
    throw new InvalidOptionsError(
      'lateToleranceMs',
      `must be a positive number of ms, got ${show(lateToleranceMs)}`,
    );
  }

  const escalation = numbersIn<EscalationOptions>(
    options.escalation,
    defaultOptions.escalation,
    'escalation',
    {
      multiplier: 1,
      jitter: 0,
    },
  );
  if (escalation.jitter > 1) {
    throw new InvalidOptionsError(
      'escalation.jitter',
      `must be at most 1, got ${escalation.jitter}`,
    );
  }
  const flapping = numbersIn<FlappingOptions>(
    options.flapping,
    defaultOptions.flapping,
    'flapping',
    {},
  );

  return {
    tickMs,
    heartbeatTimeoutMs,
    overload,
    policy,
    safety,
    onAction,
    detector,
    failedAt,
    lateToleranceMs,
    escalation,
    flapping,
    hooks: resolveHookPolicy(options.hooks, 'hooks'),
    ruleBudgetMs,
    admission,
    logger,
    clock,
    inspect,
    licensing: resolveLicensing(options.licensing),
    trust: resolveTrust(options.trust),
    predictive: resolvePredictive(options.predictive, tickMs),
    maxNodes:
      options.maxNodes === undefined ? undefined : positiveInteger(options.maxNodes, 'maxNodes'),
    heartbeatRate:
      options.heartbeatRate === undefined
        ? undefined
        : numbersIn<HeartbeatRate>(
            options.heartbeatRate,
            { perSecond: 10, burst: 20 },
            'heartbeatRate',
            { burst: 1 },
          ),
    record: resolveRecord(options.record),
    // Opened last, once every other option is known to be good: it touches the disk.
    storage: resolveStorage(options, (message) => logger.warn({ component: 'storage' }, message)),
  };
}

function resolvePredictive(
  input: Partial<PredictiveOptions> | false | undefined,
  tickMs: number,
): PredictiveOptions | undefined {
  if (input === undefined || input === false) return undefined;
  const resolved = numbersIn<PredictiveOptions>(
    input,
    { windowTicks: 10, horizonMs: 10 * tickMs },
    'predictive',
    {},
  );
  if (!Number.isSafeInteger(resolved.windowTicks) || resolved.windowTicks < 2) {
    throw new InvalidOptionsError(
      'predictive.windowTicks',
      `must be a whole number of at least 2 (a line needs two points), got ${show(resolved.windowTicks)}`,
    );
  }
  return resolved;
}
