import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { DomainError } from '../errors.ts';
import { NoBody } from '../openapi.ts';
import { csrfTokenOf, requireAdmin, SESSION_COOKIE, sessionToken } from './auth.guard.ts';
import type { SessionGrant } from './auth.service.ts';
import {
  AdminAccount,
  AdminAccountList,
  AdminIdParams,
  AssignmentList,
  AssignRequest,
  AuthStateResponse,
  CreateAccountRequest,
  LoginRequest,
  MeetingAdminParams,
  MeetingIdParams,
  SessionResponse,
  SetupRequest,
  UpdateAccountRequest,
} from './auth.schemas.ts';

export { registerAuth } from './auth.guard.ts';

function cookieOptions(request: FastifyRequest) {
  return { httpOnly: true, sameSite: 'strict' as const, path: '/', secure: request.protocol === 'https' };
}

function startSession(request: FastifyRequest, reply: FastifyReply, grant: SessionGrant): SessionResponse {
  reply.setCookie(SESSION_COOKIE, grant.token, { ...cookieOptions(request), expires: grant.expiresAt });
  return { admin: grant.admin, csrfToken: grant.csrfToken };
}

/** Set after requireAdmin has run; a missing admin here is a wiring mistake, reported as 401 rather than a crash. */
function adminOf(request: FastifyRequest) {
  if (!request.admin) throw new DomainError('UNAUTHENTICATED');
  return request.admin;
}

export async function authRoutes(app: App): Promise<void> {
  const auth = app.services.auth;

  app.get('/api/auth/state', { schema: { response: { 200: AuthStateResponse } } }, async () => ({
    needsSetup: await auth.needsSetup(),
  }));

  app.post('/api/auth/setup', { config: { errors: [409, 429] }, schema: { body: SetupRequest, response: { 201: SessionResponse } } }, async (request, reply) => {
    const { code, ...admin } = request.body;
    const grant = await auth.setupFirstAdmin(code, admin, request.ip);
    return reply.status(201).send(startSession(request, reply, grant));
  });

  app.post('/api/auth/login', { config: { errors: [401, 403, 429] }, schema: { body: LoginRequest, response: { 200: SessionResponse } } }, async (request, reply) => {
    const grant = await auth.login(request.body.username, request.body.password, request.ip);
    return startSession(request, reply, grant);
  });

  app.post('/api/auth/logout', { preHandler: requireAdmin(), schema: { response: { 204: NoBody } } }, async (request, reply) => {
    await auth.logout(sessionToken(request) ?? '');
    reply.clearCookie(SESSION_COOKIE, cookieOptions(request));
    return reply.status(204).send();
  });

  app.get('/api/auth/me', { preHandler: requireAdmin(), schema: { response: { 200: SessionResponse } } }, async (request) => ({
    admin: adminOf(request),
    csrfToken: csrfTokenOf(request) ?? '',
  }));

  // ---- accounts ----

  app.get('/api/admins', { preHandler: requireAdmin('township'), schema: { response: { 200: AdminAccountList } } }, async () => ({
    admins: await auth.listAccounts(),
  }));

  app.post(
    '/api/admins',
    { preHandler: requireAdmin('township'), schema: { body: CreateAccountRequest, response: { 201: AdminAccount } } },
    async (request, reply) => reply.status(201).send(await auth.createAccount(adminOf(request), request.body)),
  );

  app.patch(
    '/api/admins/:id',
    {
      preHandler: requireAdmin('township'),
      schema: { params: AdminIdParams, body: UpdateAccountRequest, response: { 200: AdminAccount } },
    },
    async (request) => auth.updateAccount(adminOf(request), request.params.id, request.body),
  );

  // ---- meeting assignments ----

  app.get(
    '/api/meetings/:meetingId/assignments',
    { preHandler: requireAdmin('township'), schema: { params: MeetingIdParams, response: { 200: AssignmentList } } },
    async (request) => ({ assignments: await auth.listAssignments(request.params.meetingId) }),
  );

  app.post(
    '/api/meetings/:meetingId/assignments',
    {
      preHandler: requireAdmin('township'),
      schema: { params: MeetingIdParams, body: AssignRequest, response: { 201: AssignmentList } },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send({ assignments: await auth.assignMeeting(adminOf(request), request.params.meetingId, request.body.adminId) }),
  );

  app.delete(
    '/api/meetings/:meetingId/assignments/:adminId',
    { preHandler: requireAdmin('township'), schema: { params: MeetingAdminParams, response: { 204: NoBody } } },
    async (request, reply) => {
      await auth.unassignMeeting(adminOf(request), request.params.meetingId, request.params.adminId);
      return reply.status(204).send();
    },
  );
}
