import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { nodeIdParams, reasonBody, switchBody } from '../validation.js';

interface IdParams {
  readonly id: string;
}

const operatorOnly = { access: 'operator' } as const;

/** The operator's commands on one node: isolate, reinstate, protect, pin. */
export function operatorRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { supervisor } = ctx;
  const reasonSchema = { params: nodeIdParams, body: reasonBody };
  const switchSchema = { params: nodeIdParams, body: switchBody };

  app.post<{ Params: IdParams; Body: { reason?: string } | undefined }>(
    '/v1/nodes/:id/isolate',
    { config: operatorOnly, schema: reasonSchema },
    async (request) => ({
      node: supervisor.isolate(request.params.id, request.body?.reason),
    }),
  );

  app.post<{ Params: IdParams; Body: { reason?: string } | undefined }>(
    '/v1/nodes/:id/reinstate',
    { config: operatorOnly, schema: reasonSchema },
    async (request) => ({
      node: supervisor.reinstate(request.params.id, request.body?.reason),
    }),
  );

  app.post<{ Params: IdParams; Body: { on?: boolean } | undefined }>(
    '/v1/nodes/:id/protect',
    { config: operatorOnly, schema: switchSchema },
    async (request) => {
      const on = request.body?.on ?? true;
      supervisor.protect(request.params.id, on);
      return { nodeId: request.params.id, protected: on };
    },
  );

  app.post<{ Params: IdParams; Body: { on?: boolean } | undefined }>(
    '/v1/nodes/:id/pin',
    { config: operatorOnly, schema: switchSchema },
    async (request) => {
      const on = request.body?.on ?? true;
      supervisor.pin(request.params.id, on);
      return { nodeId: request.params.id, pinned: on };
    },
  );
}
