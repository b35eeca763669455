import { readdir, readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { InvalidArgumentError, NoRouteError } from '../../errors.js';
import { errorReplies, replies } from '../responses.js';

// The dashboard is plain ES modules and CSS, served as they are: no bundler, no CDN, so it
// works on a machine without internet. `npm run build` copies the folder next to the
// compiled routes, so this one relative path holds from the sources and from `dist`.
const assetDir = new URL('../dashboard/', import.meta.url);

const contentTypes: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

// The page holds no data: everything comes from the API, with the operator's token. These
// headers keep it that way: scripts and connections only to this server, the page never
// framed, and no Referer carrying a `?token=` elsewhere.
const pageHeaders = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // Revalidate every time: a new wyneos version must not run against an old script.
  'cache-control': 'no-cache',
};

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

/**
 * Reads the dashboard's files once, when the plugin registers: a request can only ever get one
 * of these, by exact name, so no path from a request reaches the file system.
 */
export async function loadDashboardAssets(): Promise<ReadonlyMap<string, Asset>> {
  let names: string[];
  try {
    names = await readdir(assetDir);
  } catch (error) {
    throw new InvalidArgumentError(
      'wyneosPlugin dashboard',
      `the dashboard's files are missing (${(error as Error).message}); rebuild with npm run build, or pass dashboard: false`,
    );
  }
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const type = contentTypes[extname(name)];
    if (type === undefined) continue;
    assets.set(name, { type, body: await readFile(new URL(name, assetDir)) });
  }
  if (!assets.has('index.html')) {
    throw new InvalidArgumentError('wyneosPlugin dashboard', 'index.html is missing');
  }
  return assets;
}

/**
 * `GET /`: the dashboard page, and `GET /dashboard/<file>`: its scripts and styles. Both are
 * open: they carry no fleet data.
 */
export function dashboardRoutes(app: FastifyInstance, assets: ReadonlyMap<string, Asset>): void {
  const send = (name: string, reply: FastifyReply) => {
    const asset = assets.get(name) as Asset;
    return reply.headers(pageHeaders).type(asset.type).send(asset.body);
  };

  const page = { summary: 'The dashboard', response: replies.dashboardPage };
  app.get('/', { config: { access: 'open' }, schema: page }, async (request, reply) => {
    // Under a prefix the page may be asked for as `/wyneos`: its relative URLs (`v1/events`,
    // `dashboard/main.js`) need the trailing slash to resolve under the prefix.
    const [path = '', query] = request.url.split('?', 2);
    if (!path.endsWith('/')) {
      return reply.redirect(`${path}/${query === undefined ? '' : `?${query}`}`, 308);
    }
    return send('index.html', reply);
  });

  app.get<{ Params: { file: string } }>(
    '/dashboard/:file',
    {
      config: { access: 'open' },
      schema: {
        summary: "The dashboard's scripts and styles",
        response: { ...replies.dashboardFile, ...errorReplies(404) },
      },
    },
    async (request, reply) => {
      const { file } = request.params;
      if (file === 'index.html' || !assets.has(file)) {
        throw new NoRouteError(request.method, request.url);
      }
      return send(file, reply);
    },
  );
}
