import type { FastifyInstance } from 'fastify';
import {
  InvalidHeartbeatError,
  RateLimitedError,
  StaleHeartbeatError,
  UnknownNodeError,
} from '../../errors.js';
import type { LicenceStatus } from '../../licensing/index.js';
import type { Heartbeat } from '../../telemetry/index.js';
import type { NodeSnapshot, NodeState } from '../../types.js';
import { assertActsFor } from '../auth.js';
import { principalOf, type RouteConfig, type RouteContext } from '../context.js';
import type { PendingAction } from '../fleet-feed.js';
import { heartbeatsBody } from '../validation.js';

/** What a node learns from each heartbeat it sends: how the supervisor sees it, what to do. */
export interface HeartbeatReply {
  readonly nodeId: string;
  readonly state: NodeState;
  readonly since: number;
  readonly reason: string;
  /** The supervisor's boot: send it as `boot` in the next heartbeats. */
  readonly boot: number;
  /** Actions decided for the node since its previous heartbeat, each handed out once. */
  readonly actions: readonly PendingAction[];
  /**
   * The node's licence, when it holds one: how the supervisor sees it now. A gated node is
   * `isolated` with a reason starting `licence:`, and this says why.
   */
  readonly licence?: {
    readonly id: string;
    readonly status: LicenceStatus;
    readonly expiresAt: number;
    readonly reason?: string;
  };
}

const config: RouteConfig = { access: 'node', bodyKind: 'heartbeat', ingest: true };

/**
 * `POST /v1/heartbeats`: one heartbeat, or a batch of up to 1,000 (one per node). A batch is
 * taken whole or not at all: every heartbeat is checked (identity, node, rate, seq) before any
 * is stored, as `registerMany` does.
 */
export function heartbeatRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { supervisor, feed, limiter, metrics } = ctx;

  app.post<{ Body: Heartbeat | Heartbeat[] }>(
    '/v1/heartbeats',
    {
      config,
      schema: { body: heartbeatsBody },
    },
    async (request) => {
      const { body } = request;
      const beats = Array.isArray(body) ? body : [body];
      const principal = principalOf(request);
      const nodes = new Map<string, NodeSnapshot>();
      beats.forEach((beat, index) => {
        if (principal.kind === 'node' && principal.id !== beat.nodeId) {
          // A node's credentials speaking for another node: it counts against the sender's trust.
          if (supervisor.node(principal.id) !== undefined) {
            supervisor.reportIncident(
              principal.id,
              'impersonation',
              `heartbeat as ${String(beat.nodeId).slice(0, 253)}`,
            );
          }
        }
        assertActsFor(principal, beat.nodeId);
        if (nodes.has(beat.nodeId)) {
          throw new InvalidHeartbeatError(
            `/${index}/nodeId`,
            'repeats a node of this batch: send one heartbeat per node',
          );
        }
        const node = supervisor.node(beat.nodeId);
        if (node === undefined) throw new UnknownNodeError(beat.nodeId);
        const waitMs = limiter.waitMs(beat.nodeId);
        if (waitMs > 0) throw new RateLimitedError(beat.nodeId, waitMs);
        try {
          // The supervisor's own check (seq, epoch, boot), so that a batch is taken whole or not.
          supervisor.checkHeartbeat(beat);
        } catch (error) {
          // A refused replay costs a token as an accepted beat does: a flood of them is not free.
          if (error instanceof StaleHeartbeatError) limiter.take(beat.nodeId);
          throw error;
        }
        nodes.set(beat.nodeId, node);
      });

      const replies = beats.map((beat): HeartbeatReply => {
        limiter.take(beat.nodeId);
        const { boot } = supervisor.heartbeat(beat);
        // A heartbeat never changes a node's state, so the view taken before still holds.
        const { id, state, since, reason } = nodes.get(beat.nodeId) as NodeSnapshot;
        const held = supervisor.licence(id);
        const licence =
          held === undefined
            ? {}
            : {
                licence: {
                  id: held.licence.id,
                  status: held.status,
                  expiresAt: held.licence.expiresAt,
                  ...(held.reason === undefined ? {} : { reason: held.reason }),
                },
              };
        const actions = feed.takePending(id);
        return { nodeId: id, state, since, reason, boot, actions, ...licence };
      });
      metrics.heartbeatsAccepted(beats.length);
      return Array.isArray(body) ? { results: replies } : replies[0];
    },
  );
}
