import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { CastRequest, CastResponse, ErrorResponse, StatusRequest, StatusResponse } from './voter.schemas.ts';

/**
 * The phone's routes. No session, no cookie: the credential travels in the body only. Rate limits are
 * keyed on (a hash of) the credential, never the address: a hall full of phones shares one NAT address.
 */
function credentialKey(req: FastifyRequest): string {
  const c = (req.body as { credential?: unknown } | undefined)?.credential;
  return createHash('sha256').update(typeof c === 'string' ? c.trim().toUpperCase() : '').digest('base64url');
}

export async function voterRoutes(app: App): Promise<void> {
  const ballots = app.services.ballots;
  const limit = (max: number) => ({ rateLimit: { max, timeWindow: '1 minute', keyGenerator: credentialKey, hook: 'preHandler' as const } });
  const errors = { 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse, 429: ErrorResponse };

  app.post('/api/voter/status', { config: limit(120), schema: { body: StatusRequest, response: { 200: StatusResponse, ...errors } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return ballots.status(req.body.credential);
  });

  app.post('/api/voter/cast', { config: limit(30), schema: { body: CastRequest, response: { 200: CastResponse, ...errors } } }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return ballots.cast(req.body);
  });
}
