import { existsSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './paths.ts';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import { sql } from 'kysely';
import { z } from 'zod';
import type { App, AppDeps } from './app.ts';
import type { Services } from './services.ts';
import { authRoutes, registerAuth } from './auth/auth.routes.ts';
import { setupRoutes } from './setup/setup.routes.ts';
import { meetingRoutes } from './meetings/meetings.routes.ts';
import { rosterRoutes } from './roster/roster.routes.ts';
import { voterRoutes } from './ballots/voter.routes.ts';
import { liveRoutes } from './live/live.routes.ts';
import { reportRoutes } from './reports/reports.routes.ts';
import { archiveRoutes } from './archive/archive.routes.ts';
import { timerRoutes } from './timers/timers.routes.ts';
import { inspectionRoutes } from './inspection/inspection.routes.ts';
import { contentSecurityPolicy } from './csp.ts';
import { lanAddresses } from './net.ts';


export async function registerRoutes(app: App, _services: Services, deps: AppDeps): Promise<void> {
  // One line per request: method, route pattern, status, duration. No URL, query, body, token or address.
  // The hooks every request runs take a callback, not a promise: an async hook costs each request a
  // promise and its turn through the microtask queue.
  app.addHook('onResponse', (req, reply, done) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? null, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
    done();
  });
  // Nothing leaves the origin (the policy is built once, from configuration); no page leaks its address in a Referer.
  const csp = contentSecurityPolicy(deps.config, lanAddresses());
  app.addHook('onRequest', (_req, reply, done) => {
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('content-security-policy', csp);
    done();
  });

  await app.register(fastifyRateLimit, { global: false });
  registerAuth(app);

  app.get(
    '/healthz',
    { schema: { response: { 200: z.object({ ok: z.literal(true), version: z.string(), database: z.string() }) } } },
    async () => {
      // PostgreSQL can be out of reach while the process runs: then 503 DATABASE_UNAVAILABLE, which the
      // proxy's or the monitor's check should see. The SQLite file is this process's own (not opened here).
      if (deps.store.dialect === 'postgres') await sql`select 1`.execute(deps.store.db);
      return { ok: true as const, version: deps.version ?? '0.0.0', database: deps.store.dialect };
    },
  );
  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await authRoutes(app);
  await setupRoutes(app);
  await meetingRoutes(app);
  await rosterRoutes(app);
  await voterRoutes(app);
  await timerRoutes(app);
  await liveRoutes(app);
  await reportRoutes(app);
  await archiveRoutes(app);
  await inspectionRoutes(app);

  await serveBuiltPages(app);
}

/**
 * The built phone page at /v/ and the admin pages at /admin/, when `npm run build` has made them.
 * The build writes a brotli and a gzip copy beside each file; the one the browser accepts is sent as it
 * is (nothing compressed per request). Assets have a content hash in their names, so a browser keeps
 * them for a year without asking; index.html names the current ones and is checked on every load.
 */
async function serveBuiltPages(app: App): Promise<void> {
  for (const [dir, prefix] of [['dist/voter', '/v/'], ['dist/admin', '/admin/']] as const) {
    const folder = path.join(ROOT, dir);
    if (!existsSync(folder)) continue;
    await app.register(fastifyStatic, {
      root: folder,
      prefix,
      decorateReply: false,
      // An array: with preCompressed, @fastify/static finds a folder's index (the QR's /v/) only in a list.
      index: ['index.html'],
      preCompressed: true,
      cacheControl: false,
      // The copies are sent in place of their file, never asked for by name.
      allowedPath: (pathname) => !/\.(br|gz)$/.test(pathname),
      setHeaders: (res, file) => {
        res.setHeader('vary', 'accept-encoding');
        res.setHeader('cache-control', isHashedAsset(folder, file) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/admin/'));
  app.get('/v', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/v/'));
  app.get('/admin', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/admin/'));
}

/** A file under the build's assets/ folder: vite names each by a hash of its content. */
function isHashedAsset(folder: string, file: string): boolean {
  return path.relative(folder, file).split(path.sep)[0] === 'assets';
}
