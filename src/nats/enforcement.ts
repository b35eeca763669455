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
 */
export class EnforcementPublisher {
  private readonly subscription: Subscription;
  private batch: ActionRecord[] = [];
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
        this.batch.push(record);
        // Actions of a tick (or an operator command) are sent once that commit is durable.
        queueMicrotask(() => this.send());
      }
    });
  }

  /** Tells a node it must register (its heartbeats reach a supervisor that does not know it). */
  askToRegister(nodeId: string): void {
    const now = Date.now();
    if ((this.lastAsked.get(nodeId) ?? 0) > now - 1000) return;
    this.lastAsked.set(nodeId, now);
    if (this.lastAsked.size > 10_000) this.lastAsked.clear();
    this.nc.publish(subjects.enforce(nodeId), JSON.stringify({ kind: 'register' }));
  }

  /** Resolves when every action handed over so far has been sent. */
  settled(): Promise<void> {
    return this.queue;
  }

  close(): void {
    this.subscription.unsubscribe();
  }

  private send(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.queue = this.queue.then(async () => {
      try {
        await this.supervisor.durable();
      } catch (error) {
        // Not durable: the decision may not survive a crash, so no node is told of it.
        this.options.log.warn(
          { error: thrownMessage(error), actions: batch.length },
          'actions not sent',
        );
        return;
      }
      await Promise.all(batch.map((record) => this.deliver(record)));
    });
  }

  private async deliver(record: ActionRecord): Promise<void> {
    const { nodeId, id, type, reason, at, ruleId } = record;
    if (!this.options.holds(shardOf(nodeId, this.options.shards))) return;
    const message: EnforcementMessage = {
      kind: 'action',
      action: { id, type, reason, at, ...(ruleId === undefined ? {} : { ruleId }) },
    };
    const json = JSON.stringify(message);
    try {
      await this.kv.put(keys.decision(nodeId, id), json);
      await this.nc.request(subjects.enforce(nodeId), json, {
        timeout: this.options.requestTimeoutMs,
      });
      this.counts.delivered++;
    } catch (error) {
      const noResponders =
        (error as { isNoResponders?: () => boolean }).isNoResponders?.() === true;
      if (noResponders) this.counts.away++;
      else {
        this.counts.failed++;
        this.options.log.warn(
          { nodeId, actionId: id, error: thrownMessage(error) },
          'enforcement not delivered',
        );
      }
    }
  }
}
