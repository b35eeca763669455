import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Subscription } from 'rxjs';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import type { Supervisor } from '../supervisor/index.js';
import type { ActionRecord, RemediationActionType } from '../types.js';
import { keys, shardOf, subjects } from './subjects.js';

/** What a node is told, over `wyneos.enforce.<node>` and in its decision key. */
export type EnforcementMessage =
  | {
      readonly kind: 'action';
      readonly action: {
        readonly id: string;
        readonly type: RemediationActionType;
        readonly reason: string;
        readonly at: number;
        readonly ruleId?: string;
      };
    }
  | { readonly kind: 'register' };

export interface EnforcementOptions {
  readonly shards: number;
  /** Whether a shard's lease is still ours: a former holder must not tell nodes anything. */
  readonly holds: (shard: number) => boolean;
  readonly requestTimeoutMs: number;
  readonly log: Logger;
}

/**
 * Carries decisions to nodes. An action a node must act on waits until the supervisor's state
 * holding it is durable, is written to the node's outbox in KV (`decision.<node>.<action>`, so
 * a node that was away reads it when it returns), and then sent as a request to
 * `wyneos.enforce.<node>`: the node answers, or NATS answers at once that no one listens (the
 * node is away). The node deletes each outbox entry once it has acted on it, and applies each
 * action id once however often it is told of it.
 *
 * An action is kept until its node has been told: one whose commit was not durable, whose
 * outbox write failed or whose request went unanswered is tried again after the next tick
 * (the commit that retries a failed save). A request is sent again only while the outbox entry
 * is still there: a node that deleted it has acted on the action already.
 */
export class EnforcementPublisher {
  private readonly subscription: Subscription;
  private batch: Untold[] = [];
  /** Actions whose node has not been told yet, sent again after the next tick. */
  private again: Untold[] = [];
  private queue: Promise<void> = Promise.resolve();
  private readonly lastAsked = new Map<string, number>();
  readonly counts = { delivered: 0, away: 0, failed: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly supervisor: Supervisor,
    private readonly options: EnforcementOptions,
  ) {
    this.subscription = supervisor.actions$.subscribe((record) => {
      if (record.status === 'proposed' && record.type !== 'propagate') {
        this.batch.push({ record, written: false, failures: 0 });
        // Actions of a tick (or an operator command) are sent once that commit is durable.
        queueMicrotask(() => this.send());
      }
    });
    // A tick has committed (retrying a failed save): the actions not yet told go again.
    this.subscription.add(supervisor.ticks$.subscribe(() => this.retry()));
  }

  /** Tells a node it must register (its heartbeats reach a supervisor that does not know it). */
  askToRegister(nodeId: string): void {
    const now = Date.now();
    if ((this.lastAsked.get(nodeId) ?? 0) > now - 1000) return;
    this.lastAsked.set(nodeId, now);
    if (this.lastAsked.size > 10_000) this.lastAsked.clear();
    this.nc.publish(subjects.enforce(nodeId), JSON.stringify({ kind: 'register' }));
  }

  /**
   * Resolves when every action handed over so far has been tried once more (a shard's are, before
   * it is handed over: a former holder tells its nodes nothing).
   */
  settled(): Promise<void> {
    this.retry();
    return this.queue;
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  private retry(): void {
    if (this.again.length === 0) return;
    this.batch.unshift(...this.again);
    this.again = [];
    this.send();
  }

  private send(): void {
    if (this.batch.length === 0 || this.subscription.closed) return;
    const batch = this.batch;
    this.batch = [];
    this.queue = this.queue.then(async () => {
      try {
        await this.supervisor.durable();
      } catch (error) {
        // Not durable: the decision may not survive a crash, so no node is told of it yet.
        // Said once per action, as storage stays away for many ticks.
        const fresh = batch.filter((untold) => untold.failures++ === 0).length;
        const level = fresh > 0 ? 'warn' : 'debug';
        this.options.log[level](
          { error: thrownMessage(error), actions: batch.length },
          'actions not sent yet: their commit is not durable (tried again after the next tick)',
        );
        this.again.push(...batch);
        return;
      }
      const told = await Promise.all(batch.map((untold) => this.deliver(untold)));
      this.again.push(...batch.filter((_, i) => !told[i]));
    });
  }

  /** Tells a node of an action; false if it must be tried again. */
  private async deliver(untold: Untold): Promise<boolean> {
    const { nodeId, id, type, reason, at, ruleId } = untold.record;
    // A shard handed over or lost: its holder now decides for the node.
    if (!this.options.holds(shardOf(nodeId, this.options.shards))) return true;
    const message: EnforcementMessage = {
      kind: 'action',
      action: { id, type, reason, at, ...(ruleId === undefined ? {} : { ruleId }) },
    };
    const json = JSON.stringify(message);
    const key = keys.decision(nodeId, id);
    try {
      if (!untold.written) {
        await this.kv.put(key, json);
        untold.written = true;
      } else if ((await this.kv.get(key))?.operation !== 'PUT') {
        // The node deleted its outbox entry: it has acted on the action, and is not told twice.
        this.counts.delivered++;
        return true;
      }
      await this.nc.request(subjects.enforce(nodeId), json, {
        timeout: this.options.requestTimeoutMs,
      });
      this.counts.delivered++;
      return true;
    } catch (error) {
      const noResponders =
        (error as { isNoResponders?: () => boolean }).isNoResponders?.() === true;
      // Away: it reads its outbox when it returns.
      if (noResponders) {
        this.counts.away++;
        return true;
      }
      this.counts.failed++;
      // Said once per action: a node that never answers is tried on every tick.
      const level = untold.failures++ === 0 ? 'warn' : 'debug';
      this.options.log[level](
        { nodeId, actionId: id, error: thrownMessage(error) },
        'enforcement not delivered (tried again after the next tick)',
      );
      return false;
    }
  }
}

/** An action its node has not been told of; `written` once it is in the node's outbox. */
interface Untold {
  readonly record: ActionRecord;
  written: boolean;
  /** Attempts that failed so far, to warn about each action once. */
  failures: number;
}
