import type { FastifyServerOptions } from 'fastify';

/**
 * Logs never carry a body, a query string, a token, a receipt or an address: request lines hold the
 * route pattern and the status only (see the onResponse hook in routes.ts), and the default
 * serializers that would print req.ip / remoteAddress are replaced.
 */
export function loggerOptions(level: string, stream?: NodeJS.WritableStream): FastifyServerOptions['logger'] {
  return {
    level,
    ...(stream ? { stream } : {}),
    serializers: {
      req: (req: { method?: string; routeOptions?: { url?: string } }) => ({ method: req.method, route: req.routeOptions?.url }),
      res: (res: { statusCode?: number }) => ({ statusCode: res.statusCode }),
    },
  };
}
