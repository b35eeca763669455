import swagger from '@fastify/swagger';
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Access } from './auth.js';
import type { RouteConfig } from './context.js';
import { errorReply, replies } from './responses.js';
import { sharedSchemas } from './shared-schemas.js';

/** What the document says of the API as a whole. */
export interface OpenApiInfo {
  readonly version: string;
}

const securitySchemes = {
  nodeToken: {
    type: 'http',
    scheme: 'bearer',
    description: "A node's token (`wyneos token --node <id>`): acts for that node only.",
  },
  operatorToken: {
    type: 'http',
    scheme: 'bearer',
    description: "The operator's token (`wyneos token --operator`): acts for any node.",
  },
} as const;

const securityOf: Readonly<Record<Access, Record<string, string[]>[]>> = {
  open: [],
  node: [{ nodeToken: [] }, { operatorToken: [] }],
  operator: [{ operatorToken: [] }],
};

// Component names: `wyneos.error-401` becomes `error-401`.
const componentName = (json: Record<string, unknown>, _base: unknown, _f: string, i: number) =>
  typeof json.$id === 'string' ? json.$id.replace(/^wyneos[./]/, '') : `def-${i}`;

/**
 * Adds the shared schemas, completes each route's schema with what follows from its config
 * (its security, the errors every route of its kind may answer) and registers
 * @fastify/swagger; with `serve`, `GET /openapi.json` answers the document. Call before any
 * route is added.
 */
export async function documentRoutes(
  app: FastifyInstance,
  info: OpenApiInfo,
  serve: boolean,
): Promise<void> {
  for (const schema of sharedSchemas) app.addSchema(schema);
  app.addHook('onRoute', completeSchema);
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'wyneos',
        version: info.version,
        description:
          'Registration, heartbeats, views and operator commands of a wyneos supervisor. Every error is answered as `{ error: { code, message, path } }`; the codes are in docs/errors.md.',
      },
      components: { securitySchemes },
    },
    refResolver: { buildLocalReference: componentName },
    // An application may document its own routes with @fastify/swagger too: this instance
    // has its own decorator, and the routes are hidden from every instance but this one (whose
    // security schemes and shared schemas they need); it serves them at /openapi.json.
    decorator: 'wyneosOpenApi',
    transform: ({ schema, url }) => ({ schema: { ...schema, hide: false }, url }),
  });
  if (serve) {
    app.get(
      '/openapi.json',
      {
        config: { access: 'open' },
        schema: { summary: 'This OpenAPI document', response: replies.openapi },
      },
      async () => (app as unknown as { wyneosOpenApi(): unknown }).wyneosOpenApi(),
    );
  }
}

function completeSchema(route: RouteOptions): void {
  const config = (route.config ?? {}) as Partial<RouteConfig>;
  const access = config.access ?? 'open';
  const schema = (route.schema ?? {}) as Record<string, unknown>;
  const statuses = [500];
  if (access !== 'open') statuses.push(401, 403);
  if (schema.params !== undefined || schema.querystring !== undefined) statuses.push(400);
  if (schema.body !== undefined) statuses.push(400, 413, 415);
  const response: Record<string, unknown> = {};
  for (const status of statuses) response[status] = errorReply(status);
  route.schema = {
    ...schema,
    security: securityOf[access],
    hide: true,
    response: { ...response, ...(schema.response as object | undefined) },
  };
}
