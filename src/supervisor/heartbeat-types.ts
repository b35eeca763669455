import type { WyneosError } from '../errors.js';
import type { NodeLicence } from '../licensing/index.js';
import type { NodeState } from '../types.js';
import type { HeartbeatRate } from './heartbeat-rate.js';

/** How a transport hands a batch to `sup.heartbeats`. */
export interface HeartbeatBatchOptions {
  /**
   * The node the transport authenticated the sender as (an HTTP node token, a NATS subject). A
   * heartbeat naming another node is refused with `ForbiddenError` and counts against the
   * sender's trust as `impersonation`. Default: none (the caller may speak for any node).
   */
  readonly sender?: string;
  /**
   * One sender per heartbeat, in place of `sender`, for a batch whose items each carry their
   * own identity (a relay's batch: each item proved by its node's token). Not with
   * `allOrNothing`.
   */
  readonly senders?: readonly string[];
  /** This call's rate limit, in place of the supervisor's `heartbeatRate`. */
  readonly rate?: HeartbeatRate;
  /**
   * Take the batch whole or not at all (as `POST /v1/heartbeats` does): every heartbeat is
   * checked before any is taken, a node may appear once, and checking stops at the first
   * refusal; the others are answered `BatchRefusedError`. Default: false (each on its own).
   */
  readonly allOrNothing?: boolean;
}

/** What `sup.heartbeats` answers for one heartbeat. */
export type HeartbeatResult =
  | {
      readonly ok: true;
      readonly nodeId: string;
      readonly state: NodeState;
      readonly since: number;
      readonly reason: string;
      /** The supervisor's boot: send it as `boot` in later heartbeats. */
      readonly boot: number;
      /** The node's licence as the supervisor sees it now, when it holds one. */
      readonly licence: NodeLicence | undefined;
      /**
       * The tokens left in the node's rate bucket once this heartbeat took its own (a fraction
       * refills over time); undefined when no rate limits the call.
       */
      readonly rateTokens: number | undefined;
    }
  | {
      readonly ok: false;
      /** The node the heartbeat names, when it names one. */
      readonly nodeId: string | undefined;
      readonly error: WyneosError;
    };
