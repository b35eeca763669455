import { type KV, Kvm } from '@nats-io/kv';
import {
  type Msg,
  type NatsConnection,
  PermissionViolationError,
  type Subscription,
} from '@nats-io/nats-core';
import type { Agent } from '../agent/index.js';
import { backoffDelay, hostLoad, type LoadSource } from '../agent/index.js';
import { systemClock } from '../clock.js';
import { InvalidOptionsError } from '../errors.js';
import { type ActionHook, defaultHookPolicy, runHook } from '../healing/index.js';
import { createDefaultLogger, type Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import { nodeIdPattern } from '../telemetry/index.js';
import type { Labels, NodeState, RemediationActionType } from '../types.js';
import { connectNats } from './connection.js';
import type { EnforcementMessage } from './enforcement.js';
import { buckets, keys, shardOf, subjects } from './subjects.js';

/** The options of {@link createNatsAgent}. */
export interface NatsAgentOptions {
  /** The NATS server, such as `nats://127.0.0.1:4222`. */
  readonly nats: string;
  readonly nodeId: string;
  readonly labels?: Labels;
  readonly version?: string;
  /** Time between heartbeats. @defaultValue 1000 */
  readonly intervalMs?: number;
  /** Time limit of a registration request. @defaultValue 2000 */
  readonly timeoutMs?: number;
  /** The longest wait between retries while no supervisor answers. @defaultValue 30000 */
  readonly maxBackoffMs?: number;
  readonly load?: LoadSource;
  /** What to run when told of an action, by type (`commandHook(...)`). */
  readonly onAction?: Partial<Record<RemediationActionType, ActionHook>>;
  readonly logger?: Logger;
}

/** A NATS agent: an Agent that also says which action ids it has applied. */
export interface NatsAgent extends Agent {
  readonly applied: readonly string[];
}

type Action = Extract<EnforcementMessage, { kind: 'action' }>['action'];
const stateAfter: Partial<Record<RemediationActionType, NodeState>> = {
  isolate: 'isolated',
  reinstate: 'online',
};

/**
 * The node side over NATS: registers with the holder of its shard (request/reply), publishes
 * heartbeats on `wyneos.hb.<shard>.<node>`, and answers enforcement on `wyneos.enforce.<node>`.
 * On start and after every reconnection it reads its decision key in KV, so an action decided
 * while it was away is applied on its return. Each action id is applied once however often the
 * node is told of it (a request and the KV copy may both carry it).
 */
export function createNatsAgent(options: NatsAgentOptions): NatsAgent {
  const { nodeId, labels, version, onAction = {} } = options;
  if (typeof nodeId !== 'string' || !new RegExp(nodeIdPattern).test(nodeId)) {
    throw new InvalidOptionsError('nodeId', `expected a node id matching ${nodeIdPattern}`);
  }
  const intervalMs = options.intervalMs ?? 1000;
  const timeoutMs = options.timeoutMs ?? 2000;
  // This incarnation of the agent: a restarted one is a new node life, whatever its seq.
  const epoch = Date.now();
  const maxBackoffMs = Math.max(intervalMs, options.maxBackoffMs ?? 30_000);
  const load = options.load ?? hostLoad;
  const log = (options.logger ?? createDefaultLogger()).child({ component: 'agent', nodeId });

  let stopped = true;
  let nc: NatsConnection | undefined;
  let subscription: Subscription | undefined;
  let registered = false;
  let state: NodeState | undefined;
  let seq = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  // Ends the wait between beats at once when the agent stops.
  let wake: () => void = () => {};
  let running: Promise<void> = Promise.resolve();
  const applied: string[] = [];
  const hooks = new Set<Promise<unknown>>();

  function apply(action: Action): void {
    if (applied.includes(action.id)) return;
    applied.push(action.id);
    if (applied.length > 256) applied.shift();
    state = stateAfter[action.type] ?? state;
    log.info({ action: action.type, actionId: action.id, reason: action.reason }, 'action');
    const hook = onAction[action.type];
    if (hook === undefined) return;
    const run = runHook(hook, { ...action, nodeId, tick: 0 }, defaultHookPolicy, systemClock);
    hooks.add(run);
    void run.finally(() => hooks.delete(run));
  }

  function enforcement(msg: Msg, kv: KV): void {
    try {
      const message = msg.json<EnforcementMessage>();
      if (message.kind === 'register') registered = false;
      else if (message.kind === 'action') {
        apply(message.action);
        void done(kv, message.action);
      }
    } catch (error) {
      log.warn({ error: thrownMessage(error) }, 'unreadable enforcement message');
    }
    msg.respond(JSON.stringify({ ok: true }));
  }

  // Everything decided while the node was away, oldest first; each entry is deleted once
  // applied, so a later return does not apply it again.
  async function catchUp(kv: KV): Promise<void> {
    const names: string[] = [];
    for await (const key of await kv.keys(keys.nodeDecisions(nodeId))) names.push(key);
    const actions: Action[] = [];
    for (const key of names) {
      const entry = await kv.get(key);
      if (entry?.operation !== 'PUT') continue;
      const message = entry.json<EnforcementMessage>();
      if (message.kind === 'action') actions.push(message.action);
    }
    actions.sort((a, b) => a.at - b.at);
    for (const action of actions) {
      apply(action);
      await done(kv, action);
    }
  }

  async function done(kv: KV, action: Action): Promise<void> {
    await kv.purge(keys.decision(nodeId, action.id)).then(
      () => {
        log.debug({ actionId: action.id }, 'decision cleared');
      },
      (error: unknown) => {
        // Left in the outbox: the next return applies it again (at least once, never lost).
        log.warn({ actionId: action.id, error: thrownMessage(error) }, 'decision not cleared');
      },
    );
  }

  async function connectOnce(): Promise<{ kv: KV; shards: number }> {
    nc = await connectNats(options.nats, {
      name: `wyneos-agent-${nodeId}`,
      inboxPrefix: subjects.inbox(nodeId),
    });
    // Direct gets name the key in the subject, so NATS permissions can limit a node's reads to
    // its own keys (the supervisors create the bucket with direct gets on).
    const kv = await new Kvm(nc).open(buckets.state, { allow_direct: true });
    const fleet = await kv.get(keys.fleet);
    if (fleet?.operation !== 'PUT') throw new Error('no supervisor has started this fleet yet');
    const { shards } = fleet.json<{ shards: number }>();
    subscription = nc.subscribe(subjects.enforce(nodeId), {
      callback: (error, msg) => {
        if (error === null) enforcement(msg, kv);
      },
    });
    await catchUp(kv);
    void (async () => {
      for await (const status of (nc as NatsConnection).status()) {
        if (status.type === 'reconnect') await catchUp(kv).catch(() => {});
      }
    })();
    return { kv, shards };
  }

  async function beat(shards: number): Promise<void> {
    const connection = nc as NatsConnection;
    if (!registered) {
      const reply = await connection.request(
        subjects.register(shardOf(nodeId, shards), nodeId),
        JSON.stringify({
          id: nodeId,
          ...(labels ? { labels } : {}),
          ...(version ? { version } : {}),
        }),
        { timeout: timeoutMs },
      );
      const body = reply.json<{
        node?: { state: NodeState };
        error?: { code: string; message: string };
      }>();
      if (body.error !== undefined && body.error.code !== 'WYNEOS_ERR_DUPLICATE_NODE') {
        throw new Error(`registration refused: ${body.error.code} ${body.error.message}`);
      }
      state = body.node?.state ?? state;
      registered = true;
      log.info({ shard: shardOf(nodeId, shards) }, 'registered');
    }
    const sample = await load();
    seq = Math.max(seq + 1, Date.now());
    connection.publish(
      subjects.heartbeat(shardOf(nodeId, shards), nodeId),
      JSON.stringify({ nodeId, epoch, seq, ...sample }),
    );
  }

  async function loop(): Promise<void> {
    let fleet: { kv: KV; shards: number } | undefined;
    while (!stopped) {
      let wait = intervalMs;
      try {
        fleet ??= await connectOnce();
        await beat(fleet.shards);
        failures = 0;
      } catch (error) {
        wait = backoffDelay(++failures, intervalMs, maxBackoffMs);
        if (refusedByServer(error)) {
          // Not a supervisor's silence: these credentials are another node's (or none), and
          // retrying changes nothing until the server's accounts or the URL do.
          log.error(
            { error: thrownMessage(error), retryInMs: wait },
            `the NATS server refused this node's credentials: give it the URL of \`wyneos nats-config --node ${nodeId} --url ...\``,
          );
        } else log.warn({ error: thrownMessage(error), retryInMs: wait }, 'no supervisor answered');
        if (fleet === undefined && nc !== undefined) await nc.close().catch(() => {});
      }
      if (stopped) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, wait);
      });
    }
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      running = loop();
    },
    async stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      wake();
      subscription?.unsubscribe();
      await nc?.drain().catch(() => {});
      await running.catch(() => {});
      await Promise.all(hooks);
    },
    get state() {
      return state;
    },
    get applied() {
      return [...applied];
    },
  };
}

/** Whether the server refused what these credentials tried (the client may wrap its error). */
function refusedByServer(error: unknown): boolean {
  for (let e = error; e instanceof Error; e = e.cause) {
    if (e instanceof PermissionViolationError) return true;
  }
  return false;
}
