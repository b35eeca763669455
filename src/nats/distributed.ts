import { hostname } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { type Clock, systemClock } from '../clock.js';
import { InvalidArgumentError, InvalidOptionsError } from '../errors.js';
import { Authenticator, parseSecret } from '../http/auth.js';
import { createDefaultLogger } from '../logger.js';
import {
  createShardHost,
  remoteNodesKey,
  type Supervisor,
  type SupervisorOptions,
} from '../supervisor/index.js';
import { recordAbandoned } from './abandoned.js';
import { connectNats } from './connection.js';
import { EnforcementPublisher } from './enforcement.js';
import { FleetCounts } from './fleet-counts.js';
import { agreeOnFleet, bucket, countBoot } from './fleet-setup.js';
import { Forwarder } from './forwarding.js';
import { HeartbeatSubscriber } from './heartbeat-subscriber.js';
import { KvStateStore } from './kv-state-store.js';
import { ShardLeases } from './leases.js';
import { ShardAnswers } from './shard-answers.js';
import { shardHandover } from './shard-handover.js';
import { ShardLog } from './shard-log.js';
import { SharedSettings } from './shared-settings.js';
import { sharedSupervisor } from './shared-supervisor.js';
import { StreamAuditLog } from './stream-audit-log.js';
import { buckets, checkShardCount, shardOf } from './subjects.js';
import { WorkerRenewals } from './worker-renewals.js';

/** The options of {@link startDistributedSupervisor}: a supervisor's, and where the fleet is. */
export interface DistributedOptions
  extends Omit<SupervisorOptions, 'stateDir' | 'stateStore' | 'auditLog' | 'recover' | 'clock'> {
  /** The NATS server, such as `nats://127.0.0.1:4222`. */
  readonly nats: string;
  /** How many shards the fleet is split into; every supervisor must agree. @defaultValue 16 */
  readonly shards?: number;
  /** The lease length; a dead supervisor's shards move within it plus one tick. @defaultValue 10000 */
  readonly leaseMs?: number;
  /** This supervisor's name in leases and the audit trail. @defaultValue `<host>-<pid>` */
  readonly supervisorId?: string;
  /**
   * Copies of each bucket, the audit stream and the change stream on a NATS cluster (3
   * survives one server lost); set when they are first created. @defaultValue 1
   */
  readonly replicas?: number;
  /**
   * The server secret the nodes' tokens derive from (as `serve --secret-file`): a relay's
   * batches are taken only item by item, each with its node's token under it. Without it,
   * relayed heartbeats are refused. @defaultValue none
   */
  readonly relaySecret?: string | Buffer;
}

/** A supervisor that shares a fleet with others through NATS. */
export interface DistributedSupervisor {
  /** The supervisor of the nodes in the shards it holds, to embed or serve like any other. */
  readonly supervisor: Supervisor;
  /** Its name in leases and the audit trail (`supervisorId`). */
  readonly id: string;
  /**
   * The shards it holds now and serves: taken over (their state loaded) and subscribed to. A
   * lease just won is not among them until then, so a registration sent once a shard is listed
   * finds its holder listening.
   */
  shards(): number[];
  /** Heartbeats taken off the bus so far: accepted, refused, and from nodes it does not know. */
  readonly heartbeats: {
    readonly accepted: number;
    readonly refused: number;
    readonly unknown: number;
    /** Relayed items refused as speaking for a node the relay may not speak for. */
    readonly impersonation: number;
    /** Relayed batches taken off the bus. */
    readonly batches: number;
  };
  /**
   * The rest of the fleet as the safety limits see it on the next tick: the nodes the other
   * supervisors hold, added to this one's own when the limits are checked.
   */
  peerCounts(): {
    readonly nodeCount: number;
    readonly isolated: number;
    readonly offline: number;
    /** Nodes that went offline within the last heartbeat timeout. */
    readonly recentlyOffline: number;
  };
  /** Reads the other supervisors' counts now rather than at the next tick. */
  refreshPeers(): Promise<void>;
  /** Looks for free shards now rather than at the next scan. */
  scan(): Promise<void>;
  /** Hands its shards to the others, stops the supervisor and closes the connection. */
  stop(): Promise<void>;
  /** Stops renewing and answering without handing anything over, as a crash would (tests). */
  crash(): Promise<void>;
  /** Its connection to the NATS server. */
  readonly connection: NatsConnection;
}

/**
 * @internal What tests give a distributed supervisor beyond its options: the supervisor's clock
 * (its ticks, heartbeat times and the fleet-wide counts' detection window). Leases keep the
 * system clock: they expire on the NATS server's.
 */
export interface DistributedInternals {
  readonly clock?: Clock;
}

/** The defaults of {@link DistributedOptions} `shards` and `leaseMs`, as the code applies them. */
export const distributedDefaults = { shards: 16, leaseMs: 10_000 } as const;

/**
 * Starts one of several supervisors that share a fleet: it connects, takes leases on its share
 * of the shards, and supervises the nodes of those shards, their state in NATS KV and its audit
 * trail in a JetStream stream. When a supervisor stops or dies, the others take its shards over.
 */
export function startDistributedSupervisor(
  options: DistributedOptions,
): Promise<DistributedSupervisor> {
  return startDistributedWith(options, {});
}

/** @internal {@link startDistributedSupervisor} with what tests give it besides its options. */
export async function startDistributedWith(
  options: DistributedOptions,
  internals: DistributedInternals,
): Promise<DistributedSupervisor> {
  const clock = internals.clock ?? systemClock;
  const { nats, supervisorId, replicas = 1, relaySecret, ...withoutNats } = options;
  const auth =
    relaySecret === undefined
      ? undefined
      : new Authenticator(parseSecret(relaySecret, 'relaySecret'));
  const { shards: shardOption, leaseMs: leaseOption, ...rest } = withoutNats;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
    throw new InvalidOptionsError('replicas', `expected an integer from 1 to 5, got ${replicas}`);
  }
  const shards = checkShardCount(shardOption ?? distributedDefaults.shards, 'shards');
  const leaseMs = leaseOption ?? distributedDefaults.leaseMs;
  if (!Number.isInteger(leaseMs) || leaseMs < 300) {
    throw new InvalidOptionsError(
      'leaseMs',
      `expected an integer of at least 300 ms, got ${leaseMs}`,
    );
  }
  const id = supervisorId ?? `${hostname()}-${process.pid}`;
  const logger = (options.logger ?? createDefaultLogger()).child({
    component: 'nats',
    supervisor: id,
  });
  const tickMs = options.tickMs ?? 1000;
  const windowMs = options.heartbeatTimeoutMs ?? 3000;

  // A supervisor may start before its NATS server (a host booting, a server restarting): it
  // waits, saying so, as the agents do.
  const nc = await connectNats(nats, {
    name: `wyneos-${id}`,
    whileUnreachable: (problem, retryInMs) => logger.warn({ retryInMs }, problem),
  });
  const kvm = new Kvm(nc);
  const state = await bucket(kvm, buckets.state, { history: 1, replicas });
  const leaseKv = await bucket(kvm, buckets.leases, { history: 1, ttl: leaseMs, replicas });
  const leaseTtl = (await leaseKv.status()).ttl;
  if (leaseTtl !== leaseMs) {
    await nc.close();
    throw new InvalidArgumentError(
      'leaseMs',
      `the fleet's lease bucket expires leases after ${leaseTtl} ms; start every supervisor with that`,
    );
  }
  const settingsKv = await bucket(kvm, buckets.settings, { history: 1, replicas });
  await agreeOnFleet(state, shards, nc);
  const boots = await countBoot(state);
  const js = jetstream(nc);
  const auditLog = await StreamAuditLog.open(js, await jetstreamManager(nc), id, replicas);

  let leases: ShardLeases | undefined;
  const holds = (shard: number) => leases?.fence(shard) !== undefined;
  const changes = await ShardLog.open(nc, replicas);
  const stateStore = new KvStateStore(state, boots, {
    shards,
    changes,
    fenceOf: (shard) => leases?.fence(shard),
    fenced: (shard) => {
      leases?.forget(shard);
      letGo(shard);
    },
    // Their actions not yet told are never sent, and the audit trail says so.
    dropped: recordAbandoned({
      // Dropped only at a claim or a lease scan, once the publisher below exists.
      abandon: (nodeIds) => enforcement.abandon(nodeIds),
      audit: auditLog,
      clock,
      log: logger,
    }),
    // Stored with each node written, so the next holder tells what this one could not.
    untoldOf: (nodeId) => enforcement.untoldOf(nodeId),
    windowMs,
    // A takeover of an older release's shard waits for its key listing at most a lease.
    listMs: leaseMs,
    log: logger,
  });
  const counts = new FleetCounts(state, shards, () => stateStore.shards(), windowMs);
  const supervisor = createShardHost(
    { ...rest, stateStore, auditLog, clock },
    { peers: () => counts.peers(clock.now()) },
  );
  // What concerns a node held elsewhere goes to its holder (docs/nats.md).
  const forwarder = new Forwarder(nc, {
    shards,
    elsewhere: (nodeId) =>
      supervisor.node(nodeId) === undefined &&
      !stateStore.shards().includes(shardOf(nodeId, shards)),
  });
  const settings = new SharedSettings(settingsKv, supervisor, {
    id,
    clock,
    log: logger.child({ part: 'settings' }),
    // Only its holder knows whether a node is in the fleet (no state is kept per node in KV).
    registered: (nodeId) => forwarder.registered(nodeId),
    holdsShardOf: (nodeId) => stateStore.shards().includes(shardOf(nodeId, shards)),
  });
  // After each tick (not inside it): what could not be applied yet, and overrides of nodes
  // taken over since.
  supervisor.ticks$.subscribe(() => queueMicrotask(() => settings.apply()));
  const enforcement = new EnforcementPublisher(nc, state, supervisor, {
    shards,
    holds,
    requestTimeoutMs: Math.max(500, tickMs),
    log: logger,
  });
  const subscriber = new HeartbeatSubscriber(
    nc,
    supervisor,
    logger,
    (nodeId) => enforcement.askToRegister(nodeId),
    (nodeId) => {
      const shard = shardOf(nodeId, shards);
      return { shard, held: stateStore.shards().includes(shard) && holds(shard) };
    },
    auth,
  );

  const holding = (shard: number) => stateStore.shards().includes(shard) && holds(shard);
  const answers = new ShardAnswers(nc, supervisor, {
    id,
    shards,
    holds: holding,
    log: logger.child({ part: 'answers' }),
  });

  let stopping: Promise<void> | undefined;
  const { handlers, letGo } = shardHandover({
    id,
    shards,
    supervisor,
    stateStore,
    enforcement,
    subscriber,
    answers,
    settings,
    leases: () => leases,
    stopping: () => stopping !== undefined,
    log: logger,
  });
  leases = new ShardLeases(
    leaseKv,
    {
      owner: id,
      shards,
      ttlMs: leaseMs,
      scanMs: tickMs,
      log: logger,
      renewals: new WorkerRenewals({
        url: nats,
        bucket: buckets.leases,
        owner: id,
        shards,
        ttlMs: leaseMs,
        log: logger,
      }),
    },
    handlers,
  );
  await counts.refresh();
  await settings.start(options.policy);
  supervisor.start();

  const activeLeases = leases;
  const distributed: DistributedSupervisor = {
    supervisor: Object.assign(
      sharedSupervisor(supervisor, settings, {
        clock,
        holdsShardOf: (nodeId) => stateStore.shards().includes(shardOf(nodeId, shards)),
        shardOf: (nodeId) => shardOf(nodeId, shards),
      }),
      { [remoteNodesKey]: forwarder },
    ),
    id,
    connection: nc,
    heartbeats: subscriber.counts,
    shards: () => stateStore.shards().sort((a, b) => a - b),
    scan: () => activeLeases.scanNow(),
    peerCounts: () => counts.peers(clock.now()),
    refreshPeers: () => counts.refresh(),
    stop() {
      stopping ??= (async () => {
        await activeLeases.stop();
        settings.stop();
        subscriber.close();
        answers.close();
        enforcement.close();
        await supervisor.stop();
        await nc.drain();
      })();
      return stopping;
    },
    async crash() {
      if (stopping !== undefined) return;
      stopping = Promise.resolve();
      activeLeases.abandon();
      settings.stop();
      subscriber.close();
      answers.close();
      enforcement.close();
      await nc.close();
      await supervisor.stop().catch(() => {});
    },
  };
  try {
    await activeLeases.start();
  } catch (error) {
    // The lease worker could not start: nothing is left running behind the error.
    await distributed.stop().catch(() => {});
    throw error;
  }
  return distributed;
}
