/**
 * A fastify service of your own that mounts the wyneos HTTP API under `/wyneos`, beside its own
 * routes: its workers register and heartbeat at `/wyneos/v1/...`, and the service acts on what
 * the supervisor decides. Run it with `npx tsx examples/fastify-service/index.ts` after
 * `npm ci`; it prints the tokens to try it with curl.
 */
import { fastify } from 'fastify';
import { type Clock, createSupervisor, maxLoad, type Supervisor } from 'wyneos';
import { nodeToken, operatorToken, wyneosPlugin } from 'wyneos/http';

export interface ServiceOptions {
  /** The secret node and operator tokens derive from; keep it out of the code in production. */
  readonly secret: string;
  /** Pass a simulated clock to run it in a test; the default is the system clock. */
  readonly clock?: Clock;
  readonly log?: (line: string) => void;
}

export async function buildService({ secret, clock, log = console.log }: ServiceOptions) {
  const supervisor: Supervisor = createSupervisor({
    tickMs: 500,
    heartbeatTimeoutMs: 1500,
    overload: { high: 0.9, low: 0.6, ticks: 2 },
    rules: [maxLoad(0.95, { enforcement: 'warn' })],
    ...(clock === undefined ? {} : { clock }),
  });
  supervisor.actions$.subscribe((action) => {
    if (action.status === 'proposed') log(`${action.type} ${action.nodeId}: ${action.reason}`);
  });

  // Node ids may be up to 253 characters long: let paths carry them.
  const app = fastify({ routerOptions: { maxParamLength: 253 } });
  app.get('/jobs', async () => ({ jobs: [] })); // the service's own routes
  await app.register(wyneosPlugin, {
    supervisor,
    secret,
    prefix: '/wyneos',
    ...(clock === undefined ? {} : { clock }),
  });
  app.addHook('onClose', () => supervisor.stop());
  supervisor.start();
  return { app, supervisor };
}

// Run directly: listen on 127.0.0.1:3000 and print what to try.
if (import.meta.url === `file://${process.argv[1]}`) {
  const secret = process.env.WYNEOS_SECRET ?? 'an example secret: set WYNEOS_SECRET instead';
  const { app } = await buildService({ secret });
  const url = await app.listen({ host: '127.0.0.1', port: 3000 });
  const key = Buffer.from(secret);
  console.log(`listening on ${url}; try:
  curl -X POST ${url}/wyneos/v1/nodes -H 'authorization: Bearer ${nodeToken(key, 'worker-1')}' -H 'content-type: application/json' -d '{"id":"worker-1"}'
  curl ${url}/wyneos/v1/nodes -H 'authorization: Bearer ${operatorToken(key)}'`);
}
