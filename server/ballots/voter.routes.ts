import { hash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { validatorCompiler } from 'fastify-type-provider-zod';
import type { App } from '../app.ts';
import { wellFormedCast } from './cast-body.ts';
import {
  CastRequest, CastResponse, MeetingStatusRequest, MeetingStatusResponse, RedeemRequest, RedeemResponse,
} from './voter.schemas.ts';

/**
 * The phone's routes. No session, no cookie: secrets travel in the body only. The three requests never
 * share a value: redeem carries the ticket and a blinded element, meeting status the meeting's shared
 * access word, cast the token and the package. Rate limits are keyed on (a hash of) the secret of each
 * request, never the address: a hall full of phones may share one NAT address. The cast's address only
 * chooses the lane of its token check (casting.ts: a sender of forged tokens waits behind the others).
 */
function keyOn(pick: (body: Record<string, unknown>) => unknown) {
  return (req: FastifyRequest): string => {
    const v = pick((req.body ?? {}) as Record<string, unknown>);
    return hash('sha256', typeof v === 'string' ? v.trim().toUpperCase() : JSON.stringify(v ?? ''), 'base64url');
  };
}

export async function voterRoutes(app: App): Promise<void> {
  const { ballots, casting, tickets } = app.services;
  // Beside what openapi.ts derives for every route (400, 413, 415, 429 behind the limit, 503): a meeting
  // not found (404) and one not in the state asked for (409), declared as every route does (config.errors).
  const limit = (max: number, key: (req: FastifyRequest) => string) => ({
    rateLimit: { max, timeWindow: '1 minute', keyGenerator: key, hook: 'preHandler' as const },
    errors: [404, 409],
  });

  app.post(
    '/api/voter/redeem',
    { config: limit(60, keyOn((b) => b.ticket)), schema: { body: RedeemRequest, response: { 200: RedeemResponse } } },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return tickets.redeem(req.body.ticket, req.body.blinded, req.ip);
    },
  );

  app.post(
    '/api/voter/meeting',
    // Every phone of a meeting sends the same words, so the limit is per meeting and generous (a poll every
    // 3 s). Keyed on the word too: requests with a wrong one (anyone on the Wi-Fi can count meeting numbers)
    // spend a bucket of their own, never the phones'. The word is a 256-bit keyed hash: nothing to guess.
    { config: limit(6000, keyOn((b) => [b.meetingId, b.access])), schema: { body: MeetingStatusRequest, response: { 200: MeetingStatusResponse } } },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return ballots.meetingStatus(req.body.meetingId, req.body.access, req.body.withForm);
    },
  );

  app.post(
    '/api/voter/cast',
    {
      // Lone surrogates in the ballot's text are dropped by validate-package, not refused (http-errors.ts).
      config: { ...limit(30, keyOn((b) => (b.token as { input?: unknown } | undefined)?.input)), illFormedText: 'strip' },
      schema: { body: CastRequest, response: { 200: CastResponse } },
      // The body: a hand-written check of a well-formed one first (cast-body.ts), zod's for anything else.
      validatorCompiler: (route) => {
        const zod = validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0]);
        if (route.httpPart !== 'body') return zod;
        return (data: unknown) => {
          const value = wellFormedCast(data);
          return value ? { value } : zod(data);
        };
      },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return casting.cast(req.body, () => req.ip);
    },
  );
}
