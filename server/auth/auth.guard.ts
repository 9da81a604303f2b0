import type { FastifyInstance, FastifyRequest, preHandlerHookHandler } from 'fastify';
import type { AdminRole } from '../db/schema.ts';
import { DomainError } from '../errors.ts';
import { safeEqual } from '../credentials/secrets.ts';

export interface AdminPrincipal {
  id: number;
  username: string;
  displayName: string;
  role: AdminRole;
}

declare module 'fastify' {
  interface FastifyRequest {
    admin: AdminPrincipal | null;
  }
}

export const SESSION_COOKIE = 'ceping_session';
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Call once, before any route that uses requireAdmin. */
export function registerAuth(app: FastifyInstance<any, any, any, any, any>): void {
  app.decorateRequest('admin', null);
}

/** The session cookie's token, if the request carries one. */
export function sessionToken(request: FastifyRequest): string | null {
  return request.cookies[SESSION_COOKIE] ?? null;
}

// The CSRF token of the session that authenticated a request (for GET /api/auth/me), kept off request.admin
// so that no route can serialize it by accident.
const csrfTokens = new WeakMap<FastifyRequest, string>();

export function csrfTokenOf(request: FastifyRequest): string | null {
  return csrfTokens.get(request) ?? null;
}

async function authorize(request: FastifyRequest, role: AdminRole | undefined): Promise<void> {
  const token = sessionToken(request);
  if (!token) throw new DomainError('UNAUTHENTICATED');
  const session = await request.server.services.auth.authenticate(token);
  if (!session) throw new DomainError('UNAUTHENTICATED');
  const { csrfToken, ...admin } = session;

  if (!SAFE_METHODS.has(request.method)) {
    const header = request.headers[CSRF_HEADER];
    if (typeof header !== 'string' || !safeEqual(header, csrfToken)) throw new DomainError('CSRF');
  }
  // A township admin may do everything an inspector may.
  if (role === 'township' && admin.role !== 'township') throw new DomainError('FORBIDDEN');

  request.admin = admin;
  csrfTokens.set(request, csrfToken);
}

/** Marks a guard made by requireAdmin with its role, so the API description can say what it refuses. */
export const ADMIN_GUARD_ROLE = Symbol('ceping.adminGuardRole');

/**
 * preHandler for admin routes: a valid session (cookie 'ceping_session'), the role when one is given
 * (requireAdmin('inspector') admits both roles), and for unsafe methods the header 'x-csrf-token'.
 */
export function requireAdmin(role?: AdminRole): preHandlerHookHandler {
  const guard: preHandlerHookHandler = function adminGuard(request, _reply, done) {
    authorize(request, role).then(() => done(), done);
  };
  return Object.assign(guard, { [ADMIN_GUARD_ROLE]: role ?? 'any' });
}

/**
 * For websocket upgrades, which carry cookies but cannot carry the CSRF header: true only when the
 * Origin header is present and names the same host (and port) as the Host header.
 */
export function checkWebsocketOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  const host = request.headers.host;
  if (!origin || !host || !/^[A-Za-z0-9.:[\]-]+$/.test(host)) return false;
  try {
    const o = new URL(origin);
    if (o.protocol !== 'http:' && o.protocol !== 'https:') return false;
    // Parse the Host header with the origin's scheme so that default ports compare equal (host:80 vs host).
    return new URL(`${o.protocol}//${host}`).host === o.host;
  } catch {
    return false;
  }
}
