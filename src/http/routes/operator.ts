import type { FastifyInstance } from 'fastify';
import { remoteNodesOf } from '../../supervisor/index.js';
import type { RouteContext } from '../context.js';
import { errorReplies, replies } from '../responses.js';
import {
  licenceIdParams,
  nodeIdParams,
  reasonBody,
  revokeBody,
  switchBody,
} from '../validation.js';

interface IdParams {
  readonly id: string;
}

const operatorOnly = { access: 'operator' } as const;

/** The operator's commands on one node (isolate, reinstate, protect, pin) and on licences; answered once durable. */
export function operatorRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { supervisor } = ctx;

  for (const command of ['isolate', 'reinstate'] as const) {
    app.post<{ Params: IdParams; Body: { reason?: string } | undefined }>(
      `/v1/nodes/:id/${command}`,
      {
        config: operatorOnly,
        schema: {
          summary: `${command === 'isolate' ? 'Isolate' : 'Reinstate'} a node`,
          params: nodeIdParams,
          body: reasonBody,
          response: { ...replies.nodeCommand, ...errorReplies(404, 409, 503) },
        },
      },
      async (request) => {
        const { id } = request.params;
        const reason = request.body?.reason;
        const remote = remoteNodesOf(supervisor);
        // Held by another supervisor of the fleet (NATS): carried out there, answered once durable.
        if (remote?.elsewhere(id)) {
          return {
            node: await remote.command(id, {
              type: command,
              ...(reason === undefined ? {} : { reason }),
            }),
          };
        }
        const node = supervisor[command](id, reason);
        // With an asynchronous store (NATS) the command is durable only once this settles:
        // the operator is never told of a decision that a crash could still lose.
        await supervisor.durable();
        return { node };
      },
    );
  }

  for (const [command, field] of [
    ['protect', 'protected'],
    ['pin', 'pinned'],
  ] as const) {
    app.post<{ Params: IdParams; Body: { on?: boolean } | undefined }>(
      `/v1/nodes/:id/${command}`,
      {
        config: operatorOnly,
        schema: {
          summary: `${command === 'pin' ? 'Pin' : 'Protect'} a node (on: false undoes it)`,
          params: nodeIdParams,
          body: switchBody,
          response: { ...replies[command], ...errorReplies(404, 503) },
        },
      },
      async (request) => {
        const on = request.body?.on ?? true;
        supervisor[command](request.params.id, on);
        await supervisor.durable();
        return { nodeId: request.params.id, [field]: on };
      },
    );
  }

  app.post<{ Params: IdParams; Body: { reason: string } }>(
    '/v1/licences/:id/revoke',
    {
      config: operatorOnly,
      schema: {
        summary: 'Revoke a licence',
        params: licenceIdParams,
        body: revokeBody,
        response: { ...replies.revoke, ...errorReplies(503) },
      },
    },
    async (request) => {
      const revocation = supervisor.revoke(request.params.id, request.body.reason);
      // On NATS the revocation is shared through KV: answered once it is written.
      await supervisor.durable();
      return { revocation };
    },
  );

  const revocations = { summary: 'Revoked licences', response: replies.revocations };
  app.get('/v1/licences/revocations', { config: operatorOnly, schema: revocations }, async () => ({
    revocations: supervisor.revocations(),
  }));
}
