import { z } from 'zod';
import type { preHandlerHookHandler } from 'fastify';
import type { App } from '../app.ts';
import { requireAdmin } from '../auth/auth.guard.ts';
import { NoBody } from '../openapi.ts';
import { Results } from '../counting/results.schemas.ts';
import { BallotPackage, Form } from '../forms/form.schemas.ts';
import {
  AuditEntry, ConfirmPaperBody, GuardResponse, Meeting, MeetingInput, MeetingParams, MeetingPatch, OpenVotingBody, PendingPaperList, PendingParams, UnitParams,
} from './meetings.schemas.ts';

/** After requireAdmin: an inspection-team account may act only on the meetings assigned to it. */
export const requireMeetingAccess: preHandlerHookHandler = async (req) => {
  const id = Number((req.params as { id?: string }).id);
  await req.server.services.auth.assertMeetingAccess(req.admin!, id);
};

export async function meetingRoutes(app: App): Promise<void> {
  const meetings = app.services.meetings;
  const onMeeting = { preHandler: [requireAdmin(), requireMeetingAccess] };
  const township = { preHandler: requireAdmin('township') };

  app.get('/api/meetings', { preHandler: requireAdmin(), schema: { response: { 200: z.object({ meetings: z.array(Meeting) }) } } }, async (req) => ({
    meetings: await meetings.list(req.admin!),
  }));

  app.post('/api/units/:unitId/meetings', { ...township, schema: { params: UnitParams, body: MeetingInput, response: { 201: Meeting } } }, async (req, reply) =>
    reply.status(201).send(await meetings.create(req.admin!.id, req.params.unitId, req.body)),
  );

  app.get('/api/meetings/:id', { ...onMeeting, schema: { params: MeetingParams, response: { 200: Meeting } } }, async (req) => meetings.get(req.params.id));

  app.get('/api/meetings/:id/form', { ...onMeeting, config: { errors: [409] }, schema: { params: MeetingParams, response: { 200: z.object({ form: Form }) } } }, async (req) => ({
    form: await meetings.form(req.params.id),
  }));

  app.patch('/api/meetings/:id', { ...onMeeting, schema: { params: MeetingParams, body: MeetingPatch, response: { 200: Meeting } } }, async (req) =>
    meetings.update(req.admin!.id, req.params.id, req.body),
  );

  app.post('/api/meetings/:id/start-signin', { ...onMeeting, schema: { params: MeetingParams, response: { 200: Meeting } } }, async (req) =>
    meetings.startSignIn(req.admin!.id, req.params.id),
  );

  app.post('/api/meetings/:id/open-voting/check', { ...onMeeting, schema: { params: MeetingParams, body: OpenVotingBody, response: { 200: GuardResponse } } }, async (req) =>
    meetings.openVotingGuard(req.params.id, req.body.overrideReason),
  );

  app.post('/api/meetings/:id/open-voting', { ...onMeeting, schema: { params: MeetingParams, body: OpenVotingBody, response: { 200: Meeting } } }, async (req) =>
    meetings.openVoting(req.admin!.id, req.params.id, req.body.overrideReason),
  );

  app.post('/api/meetings/:id/close-voting', { ...onMeeting, schema: { params: MeetingParams, response: { 200: Meeting } } }, async (req) =>
    meetings.closeVoting(req.admin!.id, req.params.id),
  );

  app.post('/api/meetings/:id/seal', { ...onMeeting, schema: { params: MeetingParams, response: { 200: Meeting } } }, async (req) =>
    meetings.seal(req.admin!.id, req.params.id),
  );

  app.get('/api/meetings/:id/results', { ...onMeeting, config: { errors: [409] }, schema: { params: MeetingParams, response: { 200: Results } } }, async (req) => meetings.results(req.params.id));

  // Paper ballots: typed in by one member, counted only once a second member confirms them.
  app.post('/api/meetings/:id/paper-ballots', { ...onMeeting, schema: { params: MeetingParams, body: z.object({ package: BallotPackage }), response: { 201: z.object({ pendingId: z.string() }) } } }, async (req, reply) =>
    reply.status(201).send(await app.services.ballots.enterPaper(req.admin!.id, req.params.id, req.body.package)),
  );

  app.get('/api/meetings/:id/paper-ballots/pending', { ...onMeeting, schema: { params: MeetingParams, response: { 200: PendingPaperList } } }, async (req) => ({
    pending: await app.services.ballots.listPendingPaper(req.params.id),
  }));

  app.post('/api/meetings/:id/paper-ballots/:pendingId/confirm', { ...onMeeting, config: { errors: [429] }, schema: { params: PendingParams, body: ConfirmPaperBody, response: { 204: NoBody } } }, async (req, reply) => {
    // The second person is either the signed-in admin or someone typing their own account on this laptop.
    const { username, password } = req.body;
    const confirmer = username && password ? await app.services.auth.verifyCredentials(username, password, req.ip) : req.admin!;
    await app.services.auth.assertMeetingAccess(confirmer, req.params.id);
    await app.services.ballots.confirmPaper(confirmer.id, req.params.id, req.params.pendingId);
    return reply.status(204).send();
  });

  app.delete('/api/meetings/:id/paper-ballots/:pendingId', { ...onMeeting, schema: { params: PendingParams, response: { 204: NoBody } } }, async (req, reply) => {
    await app.services.ballots.discardPaper(req.admin!.id, req.params.id, req.params.pendingId);
    return reply.status(204).send();
  });

  app.get('/api/meetings/:id/audit', { ...onMeeting, schema: { params: MeetingParams, response: { 200: z.object({ entries: z.array(AuditEntry) }) } } }, async (req) => ({
    entries: await meetings.audit(req.params.id),
  }));
}
