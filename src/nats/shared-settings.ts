import type { KV, KvEntry } from '@nats-io/kv';
import type { Clock } from '../clock.js';
import { SettingsConflictError, StorageError, UnknownNodeError } from '../errors.js';
import { type Exemption, type Policy, parsePolicy, policySource } from '../governance/index.js';
import type { Revocation } from '../licensing/index.js';
import type { Logger } from '../logger.js';
import { thrownMessage } from '../show.js';
import type { Supervisor } from '../supervisor/index.js';
import { isWrongRevision } from './lease-renewer.js';
import { settingsKeys } from './subjects.js';

/** The policy as the fleet shares it: its data (rules in code cannot be shared) and its author. */
export interface SharedPolicy {
  readonly version: string;
  readonly data: unknown;
  readonly by: string;
}

export type OverrideKind = 'protected' | 'pinned';
type Overrides = Readonly<Record<OverrideKind, readonly string[]>>;

/** What each key holds, as last read or written. */
interface View {
  policy?: { readonly revision: number; readonly value: SharedPolicy };
  exemptions: readonly Exemption[];
  overrides: Overrides;
  revocations: readonly Revocation[];
}

const attempts = 20;

/**
 * The fleet's policy, exemptions, protect and pin overrides and licence revocations, one KV key
 * each in the settings bucket, and their application to this supervisor. Every change is a
 * compare-and-set at the revision read: an additive change (an exemption, a revocation, one
 * node's override) is made again on the newer value when another supervisor wrote first, so
 * neither is lost; a policy, which replaces the whole, is refused (SettingsConflictError) when
 * it was based on an older policy than KV holds. A watch of the bucket (one filter, so
 * nats-server 2.9 has it) applies each change on every supervisor as it lands; what could not
 * be applied then (storage degraded, a node not held yet) is applied again after each tick.
 */
export class SharedSettings {
  private readonly view: View = {
    exemptions: [],
    overrides: { protected: [], pinned: [] },
    revocations: [],
  };
  private readonly revisions = new Map<string, number>();
  private appliedPolicy = 0;
  private readonly appliedExemptions = new Set<string>();
  private readonly complained = new Set<string>();
  private readonly writes = new Set<Promise<void>>();
  private watching: { stop(): void } | undefined;
  private stopped = false;

  constructor(
    private readonly kv: KV,
    private readonly host: Supervisor,
    private readonly options: {
      readonly id: string;
      readonly clock: Clock;
      readonly log: Logger;
      /** Whether the fleet has this node (in KV), for a change of a node held elsewhere. */
      readonly registered: (nodeId: string) => Promise<boolean>;
      /** Whether this supervisor holds the node's shard (then a node it lacks is not in the fleet). */
      readonly holdsShardOf: (nodeId: string) => boolean;
    },
  ) {}

  /**
   * Reads every setting and applies it, then watches for changes. The first supervisor with a
   * policy parsed from data writes it; any later one applies the fleet's, whatever its own.
   */
  async start(initial: Policy | undefined): Promise<void> {
    const data = initial === undefined ? undefined : policySource(initial);
    if (initial !== undefined && data !== undefined) {
      const value: SharedPolicy = { version: initial.version, data, by: this.options.id };
      await this.kv.create(settingsKeys.policy, JSON.stringify(value)).catch(() => {
        // The fleet has a policy already: it is applied below.
      });
    }
    for (const key of Object.values(settingsKeys)) this.take(await this.kv.get(key));
    this.apply();
    await this.watch();
  }

  stop(): void {
    this.stopped = true;
    this.watching?.stop();
  }

  /** The policy revision this supervisor applied: a `setPolicy` is based on it. */
  policyRevision(): number {
    return this.appliedPolicy;
  }

  /** The fleet's exemptions in force now, with their fleet-wide ids. */
  exemptions(now: number): readonly Exemption[] {
    return this.view.exemptions.filter((e) => e.until > now);
  }

  /** Settles once the writes started so far have; rejects if one of them failed. */
  settled(): Promise<void> {
    return Promise.all([...this.writes]).then(() => {});
  }

  /** Replaces the fleet's policy, unless another supervisor did since `basedOn`. */
  setPolicy(data: unknown, version: string, basedOn: number): void {
    this.track(
      this.change<SharedPolicy>(settingsKeys.policy, (current, revision) => {
        if (revision !== basedOn) {
          throw new SettingsConflictError(
            'policy',
            `supervisor ${current?.by ?? '?'} set policy ${current?.version ?? '(none)'} since this one applied the policy it had; read it and try again`,
          );
        }
        return { version, data, by: this.options.id };
      }),
    );
  }

  exempt(exemption: Exemption): void {
    this.track(
      this.change<Exemption[]>(settingsKeys.exemptions, (current = []) => {
        const now = this.options.clock.now();
        return [...current.filter((e) => e.until > now && e.id !== exemption.id), exemption];
      }),
    );
  }

  /** Turns one node's override on or off; `elsewhere`: it is not held here, so KV must know it. */
  override(kind: OverrideKind, nodeId: string, on: boolean, elsewhere: boolean): void {
    const write = async () => {
      if (elsewhere && !(await this.options.registered(nodeId))) throw new UnknownNodeError(nodeId);
      await this.change<Overrides>(settingsKeys.overrides, (current) => {
        const ids = new Set(current?.[kind] ?? []);
        if (ids.has(nodeId) === on) return undefined;
        if (on) ids.add(nodeId);
        else ids.delete(nodeId);
        return { protected: [], pinned: [], ...current, [kind]: [...ids] };
      });
    };
    this.track(write());
  }

  revoke(revocation: Revocation): void {
    this.track(
      this.change<Revocation[]>(settingsKeys.revocations, (current = []) =>
        current.some((r) => r.licenceId === revocation.licenceId)
          ? undefined
          : [...current, revocation],
      ),
    );
  }

  /**
   * Brings this supervisor in line with the fleet's settings: the policy first (exemptions name
   * its rules), then exemptions, revocations and the overrides of the nodes it holds. A change
   * it cannot make now (storage degraded) is logged once and tried again at the next call.
   */
  apply(): void {
    if (this.stopped) return;
    const { host } = this;
    const policy = this.view.policy;
    if (policy !== undefined && policy.revision !== this.appliedPolicy) {
      this.attempt(`policy@${policy.revision}`, () => {
        host.setPolicy(parsePolicy(policy.value.data, `KV ${settingsKeys.policy}`));
        this.appliedPolicy = policy.revision;
        this.options.log.info(
          { version: policy.value.version, by: policy.value.by },
          'fleet policy applied',
        );
      });
    }
    const now = this.options.clock.now();
    for (const e of this.view.exemptions) {
      if (this.appliedExemptions.has(e.id) || e.until <= now) continue;
      this.attempt(`exemption ${e.id}`, () => {
        const { id: _id, ...request } = e;
        host.exempt(request);
        this.appliedExemptions.add(e.id);
      });
    }
    const revoked = new Set(host.revocations().map((r) => r.licenceId));
    for (const r of this.view.revocations) {
      if (revoked.has(r.licenceId)) continue;
      this.attempt(`revocation ${r.licenceId}`, () => host.revoke(r.licenceId, r.reason));
    }
    const local = host.overrides();
    const apply = (kind: OverrideKind, set: (id: string, on: boolean) => void) => {
      const shared = new Set(this.view.overrides[kind]);
      const mine = new Set(local[kind]);
      for (const id of shared) {
        if (mine.has(id)) continue;
        if (host.node(id) !== undefined) this.attempt(`${kind} ${id}`, () => set(id, true));
        // Its shard's holder lacks it: deregistered, so the fleet forgets its override too (a
        // node registered again later starts without one, as on a single supervisor).
        else if (this.options.holdsShardOf(id)) this.override(kind, id, false, false);
      }
      for (const id of mine)
        if (!shared.has(id)) this.attempt(`${kind} ${id}`, () => set(id, false));
    };
    apply('protected', (id, on) => host.protect(id, on));
    apply('pinned', (id, on) => host.pin(id, on));
  }

  private attempt(what: string, run: () => void): void {
    try {
      run();
      this.complained.delete(what);
    } catch (error) {
      if (this.complained.has(what)) return;
      this.complained.add(what);
      this.options.log.warn(
        { setting: what, error: thrownMessage(error) },
        'shared setting not applied yet: tried again after the next tick',
      );
    }
  }

  private track(write: Promise<void>): void {
    this.writes.add(write);
    const done = () => this.writes.delete(write);
    write.then(done, done);
  }

  /**
   * Read, modify, compare-and-set; read again when another supervisor wrote first. `modify`
   * returns undefined when there is nothing to change, and may throw to refuse the change.
   */
  private async change<T>(
    key: string,
    modify: (current: T | undefined, revision: number) => T | undefined,
  ): Promise<void> {
    for (let attempt = 0; attempt < attempts; attempt++) {
      let entry: KvEntry | null;
      try {
        entry = await this.kv.get(key);
      } catch (error) {
        throw this.failure(key, error);
      }
      const present = entry !== null && entry.operation === 'PUT';
      const next = modify(
        present ? entry?.json<T>() : undefined,
        present ? (entry?.revision ?? 0) : 0,
      );
      if (next === undefined) return;
      const json = JSON.stringify(next);
      try {
        const revision =
          entry === null
            ? await this.kv.create(key, json)
            : await this.kv.update(key, json, entry.revision);
        this.takeValue(key, revision, json);
        this.apply();
        return;
      } catch (error) {
        if (!isWrongRevision(error)) throw this.failure(key, error);
        // Another supervisor wrote first: read its value and make the change on it.
      }
    }
    throw new SettingsConflictError(key, `${attempts} writes in a row met another's first`);
  }

  private failure(key: string, error: unknown): StorageError {
    return new StorageError(
      key,
      `Writing the shared ${key} to NATS KV failed: ${thrownMessage(error)}`,
      {
        cause: error,
      },
    );
  }

  private async watch(): Promise<void> {
    const updates = await this.kv.watch({ key: '>' });
    this.watching = updates;
    void (async () => {
      try {
        for await (const entry of updates) {
          this.take(entry);
          this.apply();
        }
      } catch (error) {
        this.options.log.warn({ error: thrownMessage(error) }, 'settings watch ended');
      }
      // Ended without being stopped (the bucket went away): watch again in a moment.
      if (!this.stopped) setTimeout(() => void this.watch().catch(() => {}), 1000).unref();
    })();
  }

  private take(entry: KvEntry | null): void {
    if (entry === null) return;
    this.takeValue(entry.key, entry.revision, entry.operation === 'PUT' ? entry.string() : null);
  }

  // Older than what was read or written already (the watch's first values, say): ignored.
  private takeValue(key: string, revision: number, json: string | null): void {
    if (revision <= (this.revisions.get(key) ?? 0)) return;
    this.revisions.set(key, revision);
    const value: unknown = json === null ? undefined : JSON.parse(json);
    if (key === settingsKeys.policy) {
      if (value !== undefined) this.view.policy = { revision, value: value as SharedPolicy };
    } else if (key === settingsKeys.exemptions) {
      this.view.exemptions = (value as Exemption[] | undefined) ?? [];
    } else if (key === settingsKeys.overrides) {
      this.view.overrides = (value as Overrides | undefined) ?? { protected: [], pinned: [] };
    } else if (key === settingsKeys.revocations) {
      this.view.revocations = (value as Revocation[] | undefined) ?? [];
    }
  }
}
