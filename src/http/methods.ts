import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { MethodNotAllowedError, NoRouteError } from '../errors.js';
import { sendError } from './error-reply.js';

interface KnownPath {
  readonly pattern: RegExp;
  readonly methods: Set<string>;
}

/**
 * The paths the plugin's routes answer and with which methods, so that a request fastify's
 * router found nothing for is told 405 with `Allow` when only its method is wrong (RFC 9110),
 * and 404 otherwise.
 */
export class KnownPaths {
  private readonly byUrl = new Map<string, KnownPath>();

  /** Records a route, from the plugin's `onRoute` hook (the url has the prefix). */
  add(route: RouteOptions): void {
    const { url } = route;
    let known = this.byUrl.get(url);
    if (known === undefined) {
      known = { pattern: patternOf(url), methods: new Set() };
      this.byUrl.set(url, known);
    }
    for (const method of [route.method].flat()) {
      known.methods.add(method);
      // Fastify answers HEAD wherever it answers GET.
      if (method === 'GET') known.methods.add('HEAD');
    }
  }

  /** The methods the path is answered with, or undefined when no route has the path. */
  allowed(path: string): readonly string[] | undefined {
    const methods = new Set<string>();
    for (const known of this.byUrl.values()) {
      if (known.pattern.test(path)) for (const method of known.methods) methods.add(method);
    }
    return methods.size === 0 ? undefined : [...methods].sort();
  }

  /** The plugin's not-found handler: 405 with `Allow` for a known path, else 404. */
  readonly notFound = (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const [path = ''] = request.url.split('?', 1);
    const allowed = this.allowed(path);
    // A known method that still found nothing (a parameter over maxParamLength) is a 404.
    if (allowed === undefined || allowed.includes(request.method)) {
      return sendError(reply, 404, new NoRouteError(request.method, request.url));
    }
    return sendError(reply, 405, new MethodNotAllowedError(request.method, path, allowed));
  };
}

// `/v1/nodes/:id/isolate` matches `/v1/nodes/<one segment>/isolate`; `*` matches the rest.
function patternOf(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => {
      if (segment.startsWith(':')) return '[^/]+';
      if (segment === '*') return '.*';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${source}/?$`);
}
