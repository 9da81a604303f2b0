import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../app.ts';
import { requireAdmin } from '../auth/auth.guard.ts';
import { FileBody, NoBody } from '../openapi.ts';
import { requireMeetingAccess } from '../meetings/meetings.routes.ts';
import {
  EntryParams, ImportBody, ImportResponse, IssuedTicket, MeetingParams, ReissueBody, RosterEntry, RosterEntryInput, SignInBody, SignInResponse, SlipsBody, SlipsResponse,
  TicketStatus,
} from './roster.schemas.ts';
import { rosterTemplateCsv, rosterTemplateXlsx } from './roster.import.ts';
import { printSlips } from '../slips/slips.service.ts';

export async function rosterRoutes(app: App): Promise<void> {
  const roster = app.services.roster;
  const onMeeting = { preHandler: [requireAdmin(), requireMeetingAccess] };

  app.get('/api/meetings/:id/roster', { ...onMeeting, schema: { params: MeetingParams, response: { 200: z.object({ entries: z.array(RosterEntry) }) } } }, async (req) => ({
    entries: await roster.list(req.params.id),
  }));

  app.post('/api/meetings/:id/roster', { ...onMeeting, schema: { params: MeetingParams, body: RosterEntryInput, response: { 201: RosterEntry } } }, async (req, reply) =>
    reply.status(201).send(await roster.add(req.admin!.id, req.params.id, req.body)),
  );

  app.delete('/api/meetings/:id/roster/:entryId', { ...onMeeting, schema: { params: EntryParams, response: { 204: NoBody } } }, async (req, reply) => {
    await roster.remove(req.admin!.id, req.params.id, req.params.entryId);
    return reply.status(204).send();
  });

  app.post('/api/meetings/:id/roster/import', { ...onMeeting, bodyLimit: 16 * 1024 * 1024, config: { errors: [429] }, schema: { params: MeetingParams, body: ImportBody, response: { 200: ImportResponse } } }, async (req) =>
    roster.importFile(req.admin!.id, req.params.id, { filename: req.body.filename, data: Buffer.from(req.body.dataBase64, 'base64'), commit: req.body.commit }),
  );

  app.get('/api/roster-template.csv', { preHandler: requireAdmin(), schema: { produces: ['text/csv'], response: { 200: FileBody } } }, async (_req, reply) =>
    reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent('签到表模板.csv')}`).send(rosterTemplateCsv()),
  );
  app.get('/api/roster-template.xlsx', { preHandler: requireAdmin(), schema: { produces: ['application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'], response: { 200: FileBody } } }, async (_req, reply) =>
    reply
      .header('content-type', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent('签到表模板.xlsx')}`)
      .send(await rosterTemplateXlsx()),
  );

  // Responses that carry a secret are never cached anywhere.
  const noStore = async (_req: FastifyRequest, reply: FastifyReply) => {
    reply.header('cache-control', 'no-store');
  };

  app.post('/api/meetings/:id/roster/:entryId/sign-in', { ...onMeeting, onRequest: noStore, schema: { params: EntryParams, body: SignInBody, response: { 200: SignInResponse } } }, async (req) =>
    roster.signIn(req.admin!.id, req.params.id, req.params.entryId, req.body.handout, req.body.slipSerial),
  );

  app.post('/api/meetings/:id/roster/:entryId/undo-sign-in', { ...onMeeting, schema: { params: EntryParams, response: { 200: RosterEntry } } }, async (req) =>
    roster.undoSignIn(req.admin!.id, req.params.id, req.params.entryId),
  );

  app.get('/api/meetings/:id/roster/:entryId/ticket', { ...onMeeting, onRequest: noStore, schema: { params: EntryParams, response: { 200: TicketStatus } } }, async (req) =>
    roster.ticketStatus(req.params.id, req.params.entryId),
  );

  app.post('/api/meetings/:id/roster/:entryId/ticket/show', { ...onMeeting, onRequest: noStore, schema: { params: EntryParams, response: { 200: IssuedTicket } } }, async (req) =>
    roster.showTicket(req.params.id, req.params.entryId),
  );

  app.post('/api/meetings/:id/roster/:entryId/ticket/replace', { ...onMeeting, onRequest: noStore, schema: { params: EntryParams, response: { 200: IssuedTicket } } }, async (req) =>
    roster.replaceTicket(req.admin!.id, req.params.id, req.params.entryId),
  );

  app.post('/api/meetings/:id/roster/:entryId/ticket/reissue', { ...onMeeting, onRequest: noStore, schema: { params: EntryParams, body: ReissueBody, response: { 200: IssuedTicket } } }, async (req) =>
    roster.reissueTicket(req.admin!.id, req.params.id, req.params.entryId, req.body.reason),
  );

  app.post('/api/meetings/:id/slips', { ...onMeeting, onRequest: noStore, schema: { params: MeetingParams, body: SlipsBody, response: { 200: SlipsResponse } } }, async (req) => ({
    slips: await roster.printSlipTickets(req.admin!.id, req.params.id, req.body.count),
  }));

  app.post('/api/meetings/:id/slips.pdf', { ...onMeeting, onRequest: noStore, schema: { params: MeetingParams, body: SlipsBody, produces: ['application/pdf'], response: { 200: FileBody } } }, async (req, reply) => {
    const { pdf, filename } = await printSlips(roster, app.services.now, req.admin!.id, req.params.id, req.body.count);
    return reply
      .header('content-type', 'application/pdf')
      .header('content-length', pdf.length)
      .header('content-disposition', `attachment; filename="slips.pdf"; filename*=UTF-8''${encodeURIComponent(filename)}`)
      .send(pdf);
  });

  app.post('/api/meetings/:id/rehearsal', { ...onMeeting, onRequest: noStore, schema: { params: MeetingParams, response: { 200: IssuedTicket } } }, async (req) =>
    roster.issueRehearsal(req.admin!.id, req.params.id),
  );
}
