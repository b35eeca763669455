import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.js';
import { replies } from '../responses.js';
import { actionsQuery } from '../validation.js';

const defaultActionPage = 1000;

/** The fleet as a whole: the report, the action log, health and readiness. */
export function fleetRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { supervisor, feed } = ctx;
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });

  const report = { summary: 'The latest governance report', response: replies.report };
  app.get('/v1/report', { config: { access: 'operator' }, schema: report }, async () => ({
    report: supervisor.report(),
  }));

  app.get<{ Querystring: { since?: number; limit?: number } }>(
    '/v1/actions',
    {
      config: { access: 'operator' },
      schema: { summary: 'The action log', querystring: actionsQuery, response: replies.actions },
    },
    async (request) => {
      const { since = 0, limit = defaultActionPage } = request.query;
      return feed.actionsSince(since, limit);
    },
  );

  // Liveness: the process answers. Readiness: the supervisor has ticked, is not stopping, and
  // can write its state (a degraded one refuses every change, so traffic should go elsewhere).
  const open = { access: 'open' } as const;
  const healthz = { summary: 'Liveness', response: replies.healthz };
  app.get('/healthz', { config: open, schema: healthz }, async () => ({ status: 'ok' }));

  const readyz = { summary: 'Readiness', response: replies.readyz };
  app.get('/readyz', { config: open, schema: readyz }, async (_request, reply) => {
    const storage = supervisor.storage();
    const why =
      closing || !feed.live
        ? 'stopping'
        : feed.lastTick === undefined
          ? 'no tick yet'
          : storage.degraded
            ? 'storage degraded'
            : '';
    if (why !== '') {
      return reply.code(503).send({
        status: 'not-ready',
        reason: why,
        ...(storage.degraded ? { degraded: ['storage'] } : {}),
      });
    }
    return { status: 'ready', tick: feed.lastTick?.tick };
  });
}
