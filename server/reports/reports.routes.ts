import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { App } from '../app.ts';
import { requireAdmin } from '../auth/auth.guard.ts';
import { requireMeetingAccess } from '../meetings/meetings.routes.ts';
import { MeetingParams } from '../meetings/meetings.schemas.ts';
import { IdParams } from '../shared/params.ts';
import { FileBody } from '../openapi.ts';
import { CampaignSummary, ImportedReport, MeetingReport } from './reports.schemas.ts';

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function download(reply: FastifyReply, type: string, filename: string, body: Buffer) {
  return reply.header('content-type', type).header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`).send(body);
}

export async function reportRoutes(app: App): Promise<void> {
  const reports = app.services.reports;
  const onMeeting = { preHandler: [requireAdmin(), requireMeetingAccess] };
  const township = { preHandler: requireAdmin('township') };

  app.get('/api/meetings/:id/report', { ...onMeeting, config: { errors: [409] }, schema: { params: MeetingParams, response: { 200: MeetingReport } } }, async (req) => reports.meetingReport(req.params.id));

  app.get('/api/meetings/:id/report.xlsx', { ...onMeeting, config: { errors: [409] }, schema: { params: MeetingParams, produces: [XLSX], response: { 200: FileBody } } }, async (req, reply) => {
    const m = await app.services.meetings.get(req.params.id);
    return download(reply, XLSX, `${m.unitName}测评结果汇总表.xlsx`, await reports.meetingXlsx(req.params.id));
  });

  app.get('/api/meetings/:id/report.csv', { ...onMeeting, config: { errors: [409] }, schema: { params: MeetingParams, produces: ['text/csv'], response: { 200: FileBody } } }, async (req, reply) => {
    const m = await app.services.meetings.get(req.params.id);
    return download(reply, 'text/csv; charset=utf-8', `${m.unitName}测评结果汇总表.csv`, await reports.meetingCsv(req.params.id));
  });

  app.get('/api/imported-archives/:id/report', { ...township, config: { errors: [409] }, schema: { params: IdParams, response: { 200: ImportedReport } } }, async (req) =>
    reports.importedReport(req.params.id),
  );

  const CampaignParams = IdParams;
  app.get('/api/campaigns/:id/summary', { ...township, schema: { params: CampaignParams, response: { 200: CampaignSummary } } }, async (req) => reports.campaignSummary(req.params.id));

  app.get('/api/campaigns/:id/summary.xlsx', { ...township, schema: { params: CampaignParams, produces: [XLSX], response: { 200: FileBody } } }, async (req, reply) => {
    const s = await reports.campaignSummary(req.params.id);
    return download(reply, XLSX, `${s.township}${s.year}年度民主测评汇总.xlsx`, await reports.campaignSummaryXlsx(req.params.id));
  });
}
