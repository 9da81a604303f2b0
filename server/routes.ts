import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
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

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export async function registerRoutes(app: App, _services: Services, deps: AppDeps): Promise<void> {
  // One line per request: method, route pattern, status, duration. No URL, query, body, token or address.
  app.addHook('onResponse', async (req, reply) => {
    req.log.info({ method: req.method, route: req.routeOptions.url ?? null, status: reply.statusCode, ms: Math.round(reply.elapsedTime) }, 'request');
  });
  // Nothing leaves the origin (the policy is built once, from configuration); no page leaks its address in a Referer.
  const csp = contentSecurityPolicy(deps.config, lanAddresses());
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-content-type-options', 'nosniff');
    reply.header('content-security-policy', csp);
  });

  await app.register(fastifyRateLimit, { global: false });
  registerAuth(app);

  app.get(
    '/healthz',
    { schema: { response: { 200: z.object({ ok: z.literal(true), version: z.string(), database: z.string() }) } } },
    async () => ({ ok: true as const, version: deps.version ?? '0.0.0', database: deps.store.dialect }),
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

/** The built phone page at /v/ and the admin pages at /admin/, when `npm run build` has made them. */
async function serveBuiltPages(app: App): Promise<void> {
  const voter = path.join(root, 'dist/voter');
  const admin = path.join(root, 'dist/admin');
  if (existsSync(voter)) {
    await app.register(fastifyStatic, { root: voter, prefix: '/v/', decorateReply: false, index: 'index.html' });
  }
  if (existsSync(admin)) {
    await app.register(fastifyStatic, { root: admin, prefix: '/admin/', decorateReply: false, index: 'index.html' });
  }
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/admin/'));
  app.get('/v', { schema: { hide: true } }, async (_req, reply) => reply.redirect('/v/'));
}
