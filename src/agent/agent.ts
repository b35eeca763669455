import { type Clock, systemClock } from '../clock.js';
import { type ErrorCode, InvalidOptionsError } from '../errors.js';
import { type ActionHook, defaultHookPolicy, runHook } from '../healing/index.js';
import type { HeartbeatReply, PendingAction } from '../http/index.js';
import { createDefaultLogger, type Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import type { Labels, NodeState, RemediationActionType } from '../types.js';
import { backoffDelay } from './backoff.js';
import { hostLoad, type LoadSource } from './load.js';

/** The options of {@link createAgent}. */
export interface AgentOptions {
  /** The server's base URL, with the plugin's prefix if it has one: `http://10.0.0.1:7070`. */
  readonly server: string;
  readonly nodeId: string;
  /** The node's token (`wyneos token --node <id>`); none for a server without a secret. */
  readonly token?: string;
  readonly labels?: Labels;
  /** The node's version, a semantic version. */
  readonly version?: string;
  /** The node's licence (`wyneos licence issue`), presented when it registers. */
  readonly licence?: string;
  /** Time between heartbeats. @defaultValue 1000 */
  readonly intervalMs?: number;
  /** Time limit of one request. @defaultValue 2000 */
  readonly timeoutMs?: number;
  /** The longest wait between retries while the server is away. @defaultValue 30000 */
  readonly maxBackoffMs?: number;
  /** Where the load comes from. @defaultValue the host's load average per CPU and memory use */
  readonly load?: LoadSource;
  /** What to run when the server hands the node an action, by type (`commandHook(...)`). */
  readonly onAction?: Partial<Record<RemediationActionType, ActionHook>>;
  readonly logger?: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly fetch?: typeof fetch;
}

/** A running agent. */
export interface Agent {
  /** Registers the node (again, whenever the server has forgotten it) and starts beating. */
  start(): void;
  /** Stops beating, abandons the request in flight and waits for running commands. */
  stop(): Promise<void>;
  /** The node's state as the server last told it; undefined before the first answer. */
  readonly state: NodeState | undefined;
}

interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly retryAfterS: number | undefined;
}

/**
 * The node side of the HTTP API: registers, heartbeats every `intervalMs` with a growing seq,
 * backs off exponentially with jitter while the server is away, and acts on what each answer
 * says: it logs the node's state when it changes and every action handed to it, and runs the
 * configured command for that action type.
 */
export function createAgent(options: AgentOptions): Agent {
  const { nodeId, token, labels, version, licence, onAction = {} } = options;
  const base = options.server.replace(/\/+$/, '');
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 2000;
  const maxBackoffMs = Math.max(intervalMs, options.maxBackoffMs ?? 30_000);
  const load = options.load ?? hostLoad;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const send = options.fetch ?? fetch;
  const log = (options.logger ?? createDefaultLogger()).child({ component: 'agent', nodeId });
  if (!/^https?:\/\//.test(base)) {
    throw new InvalidOptionsError('server', `expected an http:// or https:// URL, got ${base}`);
  }

  let timer: unknown;
  let stopped = true;
  let registered = false;
  let licenceStatus: string | undefined;
  let failures = 0;
  let seq = 0;
  // This incarnation of the agent (its start time): a restarted agent is a new node life, so
  // the supervisor takes its heartbeats whatever seq it starts from.
  const epoch = clock.now();
  // The supervisor's boot, from its last answer; sent with each heartbeat.
  let boot: number | undefined;
  let resyncs = 0;
  let state: NodeState | undefined;
  let inFlight: AbortController | undefined;
  let beating: Promise<void> = Promise.resolve();
  const running = new Set<Promise<unknown>>();

  async function request(path: string, body: unknown): Promise<Answer> {
    inFlight = new AbortController();
    const timeout = clock.setTimeout(() => inFlight?.abort(), timeoutMs);
    try {
      const response = await send(`${base}${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(body),
        signal: inFlight.signal,
      });
      const text = await response.text();
      const retryAfter = Number(response.headers.get('retry-after'));
      return {
        status: response.status,
        body: text === '' ? undefined : JSON.parse(text),
        retryAfterS: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      };
    } finally {
      clock.clearTimeout(timeout);
      inFlight = undefined;
    }
  }

  /** One beat (registering first when needed); resolves to the wait before the next. */
  async function beat(): Promise<number> {
    try {
      if (!registered) {
        const answer = await request('/v1/nodes', {
          id: nodeId,
          ...(labels === undefined ? {} : { labels }),
          ...(version === undefined ? {} : { version }),
          ...(licence === undefined ? {} : { licence }),
        });
        // Already registered: this agent restarted, or an earlier answer was lost.
        if (answer.status !== 201 && codeOf(answer) !== 'WYNEOS_ERR_DUPLICATE_NODE') {
          return refused(answer, 'registration refused');
        }
        registered = true;
        log.info({ server: base }, 'registered');
      }
      const sample = await load();
      // Time-based, so an agent that restarts never repeats a seq the server has seen.
      seq = Math.max(seq + 1, clock.now());
      const answer = await request('/v1/heartbeats', {
        nodeId,
        epoch,
        seq,
        ...(boot === undefined ? {} : { boot }),
        ...sample,
      });
      if (answer.status !== 200) return refused(answer, 'heartbeat refused');
      failures = 0;
      resyncs = 0;
      const reply = answer.body as HeartbeatReply;
      boot = typeof reply.boot === 'number' ? reply.boot : boot;
      handle(reply);
      return intervalMs;
    } catch (error) {
      if (stopped) return intervalMs;
      const retryInMs = backoffDelay(++failures, intervalMs, maxBackoffMs, random);
      log.warn({ error: thrownMessage(error), attempt: failures, retryInMs }, 'server unreachable');
      return retryInMs;
    }
  }

  function refused(answer: Answer, message: string): number {
    const code = codeOf(answer);
    const error = (answer.body as { error?: { message?: string } } | undefined)?.error?.message;
    const resyncBoot = (answer.body as { error?: { boot?: unknown } } | undefined)?.error?.boot;
    // The supervisor restarted: send again at once with its boot (once; a second refusal in a
    // row waits like any other).
    if (
      code === 'WYNEOS_ERR_HEARTBEAT_RESYNC' &&
      typeof resyncBoot === 'number' &&
      resyncs++ === 0
    ) {
      boot = resyncBoot;
      log.info({ boot }, 'the supervisor restarted: heartbeating with its new boot');
      return 0;
    }
    if (code === 'WYNEOS_ERR_UNKNOWN_NODE') {
      // The server forgot the node (it restarted, or an operator deregistered it): register again.
      registered = false;
      log.warn({ code }, 'the server does not know this node: registering again');
      return 0;
    }
    const retryInMs =
      answer.retryAfterS !== undefined
        ? answer.retryAfterS * 1000
        : backoffDelay(++failures, intervalMs, maxBackoffMs, random);
    const level = answer.status >= 500 || answer.status === 429 ? 'warn' : 'error';
    log[level]({ status: answer.status, code, error, retryInMs }, message);
    return retryInMs;
  }

  function handle(reply: HeartbeatReply): void {
    if (reply.state !== state) {
      log.info({ state: reply.state, previous: state, reason: reply.reason }, 'state');
      state = reply.state;
    }
    if (reply.licence !== undefined && reply.licence.status !== licenceStatus) {
      const level = reply.licence.status === 'valid' ? 'info' : 'warn';
      log[level]({ licence: reply.licence }, 'licence');
      licenceStatus = reply.licence.status;
    }
    for (const action of reply.actions) act(action);
  }

  function act(action: PendingAction): void {
    const { id, type, reason, ruleId } = action;
    log.info({ action: type, actionId: id, reason, ruleId }, 'action');
    const hook = onAction[type];
    if (hook === undefined) return;
    const run = runHook(hook, { ...action, nodeId }, defaultHookPolicy, clock).then((outcome) => {
      if (outcome.status === 'applied') log.info({ action: type, actionId: id }, 'command ran');
      else log.warn({ action: type, actionId: id, error: outcome.error }, 'command failed');
    });
    running.add(run);
    void run.finally(() => running.delete(run));
  }

  function schedule(ms: number): void {
    if (stopped) return;
    const run = () => {
      timer = undefined;
      beating = beat().then(schedule);
    };
    // No wait means now (the first beat, registering again), not at the clock's next timer.
    if (ms <= 0) run();
    else timer = clock.setTimeout(run, ms);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      schedule(0);
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      inFlight?.abort();
      await beating;
      await Promise.all(running);
    },
    get state() {
      return state;
    },
  };
}

function codeOf(answer: Answer): ErrorCode | undefined {
  return (answer.body as { error?: { code?: ErrorCode } } | undefined)?.error?.code;
}
