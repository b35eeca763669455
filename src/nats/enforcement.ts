import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Subscription } from 'rxjs';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import type { Supervisor } from '../supervisor/index.js';
import type { RemediationActionType } from '../types.js';
import { keys, shardOf, subjects } from './subjects.js';

/** An action a node must act on, as it is told of it. */
export interface EnforcementAction {
  readonly id: string;
  readonly type: RemediationActionType;
  readonly reason: string;
  readonly at: number;
  readonly ruleId?: string;
}

/** What a node is told, over `wyneos.enforce.<node>` and in its decision key. */
export type EnforcementMessage =
  | { readonly kind: 'action'; readonly action: EnforcementAction }
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
 * is still there: a node that deleted it has acted on the action already. An action whose
 * node's changes were dropped unwritten (its shard's lease lapsed first, and another supervisor
 * wrote the shard) is abandoned: the state does not hold it, so it is never sent, even once the
 * shard is back. Actions not told yet are stored with their node's record (`untoldOf`), so a
 * supervisor that takes the shard over tells them (`tellTaken`) and the one that let it go stops
 * (`handOver`).
 */
export class EnforcementPublisher {
  private readonly subscription: Subscription;
  private batch: Untold[] = [];
  /** Actions whose node has not been told yet, sent again after the next tick. */
  private again: Untold[] = [];
  /** Every action not told yet, queued or in flight, by node: see {@link abandon} and {@link untoldOf}. */
  private readonly untold = new Map<string, Untold[]>();
  private queue: Promise<void> = Promise.resolve();
  private readonly lastAsked = new Map<string, number>();
  readonly counts = { delivered: 0, away: 0, failed: 0, abandoned: 0 };

  constructor(
    private readonly nc: NatsConnection,
    private readonly kv: KV,
    private readonly supervisor: Supervisor,
    private readonly options: EnforcementOptions,
  ) {
    this.subscription = supervisor.actions$.subscribe((record) => {
      if (record.status === 'proposed' && record.type !== 'propagate') {
        const { nodeId, id, type, reason, at, ruleId } = record;
        const untold: Untold = {
          nodeId,
          action: { id, type, reason, at, ...(ruleId === undefined ? {} : { ruleId }) },
          saved: false,
          written: false,
          failures: 0,
          cancelled: false,
        };
        this.batch.push(untold);
        this.track(untold);
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

  /**
   * The changes of these nodes were dropped unwritten: the actions of theirs whose commit never
   * became durable (queued, waiting for a retry, or waiting for durable() in the queue) are
   * never sent. Returns each node's abandoned action ids, an empty list for a node that had none.
   */
  abandon(nodeIds: Iterable<string>): Map<string, string[]> {
    const abandoned = new Map<string, string[]>();
    for (const nodeId of nodeIds) {
      const ids: string[] = [];
      abandoned.set(nodeId, ids);
      for (const untold of this.untold.get(nodeId) ?? []) {
        // One whose commit was durable stands: the changes dropped came after it.
        if (untold.saved) continue;
        ids.push(untold.action.id);
        this.cancel(untold);
        this.counts.abandoned++;
      }
    }
    this.dropCancelled();
    return abandoned;
  }

  /**
   * These nodes' shard was let go. Their actions saved untold are stored with their records
   * (StoredNode.tell), so whoever holds the shard next tells them, and this supervisor must not:
   * if it takes the shard back after another holder changed the nodes, they would be told of
   * decisions their state no longer holds. Those not saved wait for the changes kept with them
   * (written on taking the shard back, or abandoned).
   */
  handOver(nodeIds: Iterable<string>): void {
    for (const nodeId of nodeIds) {
      for (const untold of this.untold.get(nodeId) ?? []) if (untold.saved) this.cancel(untold);
    }
    this.dropCancelled();
  }

  /**
   * The actions a node has not been told of yet. They are stored with its record (see
   * StoredNode.tell), so that whoever holds its shard next tells the node of them, whatever
   * happens to this supervisor before it has.
   */
  untoldOf(nodeId: string): EnforcementAction[] | undefined {
    const untold = this.untold.get(nodeId);
    return untold === undefined ? undefined : untold.map((u) => u.action);
  }

  /**
   * Tells nodes of actions a former holder of their shard stored as untold: their commit was
   * durable, and the node may not have heard of them (a node applies an action id once, so one
   * told already is not applied twice).
   */
  tellTaken(untold: ReadonlyArray<readonly [string, readonly EnforcementAction[]]>): void {
    for (const [nodeId, actions] of untold) {
      const known = new Set(this.untold.get(nodeId)?.map((u) => u.action.id));
      for (const action of actions) {
        if (known.has(action.id)) continue;
        const taken: Untold = {
          nodeId,
          action,
          saved: true,
          written: false,
          failures: 0,
          cancelled: false,
        };
        this.batch.push(taken);
        this.track(taken);
      }
    }
    this.send();
  }

  private cancel(untold: Untold): void {
    untold.cancelled = true;
    this.forget(untold);
  }

  private dropCancelled(): void {
    this.batch = this.batch.filter((untold) => !untold.cancelled);
    this.again = this.again.filter((untold) => !untold.cancelled);
  }

  private track(untold: Untold): void {
    const list = this.untold.get(untold.nodeId);
    if (list === undefined) this.untold.set(untold.nodeId, [untold]);
    else list.push(untold);
  }

  private forget(untold: Untold): void {
    const list = this.untold.get(untold.nodeId);
    if (list === undefined) return;
    const rest = list.filter((u) => u !== untold);
    if (rest.length === 0) this.untold.delete(untold.nodeId);
    else this.untold.set(untold.nodeId, rest);
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
        this.again.push(...batch.filter((untold) => !untold.cancelled));
        return;
      }
      for (const untold of batch) untold.saved = true;
      const told = await Promise.all(batch.map((untold) => this.deliver(untold)));
      batch.forEach((untold, i) => {
        if (told[i]) this.forget(untold);
        else if (!untold.cancelled) this.again.push(untold);
      });
    });
  }

  /** Tells a node of an action; false if it must be tried again. */
  private async deliver(untold: Untold): Promise<boolean> {
    const { nodeId, action } = untold;
    // Abandoned (the state does not hold it) or handed over while it waited.
    if (untold.cancelled) return true;
    // A shard handed over or lost: its holder now decides for the node.
    if (!this.options.holds(shardOf(nodeId, this.options.shards))) return true;
    const message: EnforcementMessage = { kind: 'action', action };
    const json = JSON.stringify(message);
    const key = keys.decision(nodeId, action.id);
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
        { nodeId, actionId: action.id, error: thrownMessage(error) },
        'enforcement not delivered (tried again after the next tick)',
      );
      return false;
    }
  }
}

/** An action its node has not been told of; `written` once it is in the node's outbox. */
interface Untold {
  readonly nodeId: string;
  readonly action: EnforcementAction;
  /** Its commit was durable. */
  saved: boolean;
  written: boolean;
  /** Attempts that failed so far, to warn about each action once. */
  failures: number;
  /** Its node's changes were dropped unwritten: never sent. */
  cancelled: boolean;
}
