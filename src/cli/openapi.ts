import { Command } from 'commander';
import { pino } from 'pino';
import { createServer } from '../http/server.js';
import { createSupervisor } from '../supervisor/index.js';

/**
 * `wyneos openapi`: the OpenAPI 3.1 document `wyneos serve` answers at `/openapi.json`, built
 * the same way (the routes of a server that never listens, on a supervisor never started).
 */
export function openapiCommand(write: (line: string) => void): Command {
  return new Command('openapi')
    .description('Print the OpenAPI 3.1 document of the HTTP API (no server is started).')
    .action(async () => {
      write(JSON.stringify(await openapiDocument(), null, 2));
    });
}

async function openapiDocument(): Promise<unknown> {
  const logger = pino({ level: 'silent' });
  const supervisor = createSupervisor({ logger });
  const app = await createServer({ supervisor, logger, accessLog: 'off' });
  try {
    return (await app.inject({ url: '/openapi.json' })).json();
  } finally {
    await app.close();
    await supervisor.stop();
  }
}
