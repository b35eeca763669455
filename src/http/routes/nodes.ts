import type { FastifyInstance } from 'fastify';
import { UnknownNodeError } from '../../errors.js';
import { remoteNodesOf } from '../../supervisor/index.js';
import type { NodeRegistration } from '../../telemetry/index.js';
import type { NodeState } from '../../types.js';
import { assertActsFor } from '../auth.js';
import { principalOf, type RouteContext } from '../context.js';
import { errorReplies, replies } from '../responses.js';
import { nodeIdParams, nodesQuery, registrationBody } from '../validation.js';

const defaultPageSize = 1000;

/**
 * Registration, deregistration and views of nodes. A node's own token may register,
 * deregister and read that node; listing the fleet needs the operator's.
 */
export function nodeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { supervisor, feed } = ctx;

  app.post<{ Body: NodeRegistration }>(
    '/v1/nodes',
    {
      config: { access: 'node', bodyKind: 'registration' },
      schema: {
        summary: 'Register a node',
        body: registrationBody,
        response: { ...replies.register, ...errorReplies(409, 503) },
      },
    },
    async (request, reply) => {
      assertActsFor(principalOf(request), request.body.id);
      const node = supervisor.register(request.body);
      await supervisor.durable();
      return reply.code(201).send({ node });
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/nodes/:id',
    {
      config: { access: 'node' },
      schema: {
        summary: 'Deregister a node',
        params: nodeIdParams,
        response: { ...replies.deregister, ...errorReplies(404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      assertActsFor(principalOf(request), id);
      const remote = remoteNodesOf(supervisor);
      if (remote?.elsewhere(id)) {
        // Held by another supervisor of the fleet (NATS): it deregisters it, durably.
        await remote.command(id, { type: 'deregister' });
        return reply.code(204).send();
      }
      // The supervisor's node book forgets the node everywhere, this plugin's feed included.
      supervisor.deregister(id);
      await supervisor.durable();
      return reply.code(204).send();
    },
  );

  app.get<{
    Querystring: { state?: NodeState; after?: string; limit?: number; fleet?: boolean };
  }>(
    '/v1/nodes',
    {
      config: { access: 'operator' },
      schema: { summary: 'List nodes', querystring: nodesQuery, response: replies.nodes },
    },
    async (request) => {
      const { state, after, limit = defaultPageSize, fleet } = request.query;
      const remote = remoteNodesOf(supervisor);
      // On NATS, the nodes this supervisor holds unless the whole fleet is asked for.
      if (fleet === true && remote !== undefined) {
        return remote.fleet({
          limit,
          ...(state === undefined ? {} : { state }),
          ...(after === undefined ? {} : { after }),
        });
      }
      let nodes = supervisor.nodes();
      if (after !== undefined) nodes = nodes.slice(nodes.findIndex((n) => n.id === after) + 1);
      if (state !== undefined) nodes = nodes.filter((n) => n.state === state);
      const page = nodes.slice(0, limit);
      const next = nodes.length > limit ? page.at(-1)?.id : undefined;
      return next === undefined ? { nodes: page } : { nodes: page, next };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/nodes/:id',
    {
      config: { access: 'node' },
      schema: {
        summary: 'One node in detail',
        params: nodeIdParams,
        response: { ...replies.node, ...errorReplies(404, 503) },
      },
    },
    async (request) => {
      const { id } = request.params;
      assertActsFor(principalOf(request), id);
      // Held by another supervisor of the fleet (NATS): that one's view now, saying whose.
      const remote = remoteNodesOf(supervisor);
      if (remote?.elsewhere(id)) return await remote.node(id);
      const node = supervisor.node(id);
      if (node === undefined) throw new UnknownNodeError(id);
      return {
        node,
        licence: supervisor.licence(id) ?? null,
        rules: supervisor.explain(id),
        transitions: feed.recentTransitions(id),
        pendingActions: feed.peekPending(id),
      };
    },
  );
}
