import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { App } from '../app.ts';
import { requireAdmin } from '../auth/auth.guard.ts';
import { FileBody, NoBody } from '../openapi.ts';
import { Id } from '../shared/params.ts';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { DomainError } from '../errors.ts';
import { FILE_LIMITS } from '../imports/limits.ts';
import { scanJson } from '../imports/json-scan.ts';
import { FileRefused } from '../imports/zip.ts';
import { requireMeetingAccess } from '../meetings/meetings.routes.ts';
import type { FileOut } from './inspection.service.ts';
import {
  AddTalkBody, AppraisalBody, CampaignParams, DrawBody, ExtendBody, ImportedInspection, ImportParams, InquiryBody, InquiryParams, InspectionFile, InspectionImportResponse,
  InspectionSettings, MeetingParams, Progress, RecordsBody, ReportBody, Talk, TalkParams, TalkPatch, Workspace,
} from './inspection.schemas.ts';

const DOCX = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document';

/** A Chinese file name survives in every browser through filename* (RFC 6266); the plain one is an ASCII fallback. */
function send(reply: FastifyReply, type: string, file: FileOut, fallback: string) {
  reply.header('content-disposition', `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`);
  reply.header('cache-control', 'no-store');
  return reply.type(type).send(file.body);
}

// The report's JSON: the same model the Word file is made from (types in report.model.ts).
const ReportModelSchema = z.object({
  title: z.string(),
  intro: z.string(),
  sections: z.array(z.object({
    heading: z.string(),
    paragraphs: z.array(z.string()),
    written: z.boolean(),
    subsections: z.array(z.object({
      heading: z.string(),
      paragraphs: z.array(z.string()),
      tables: z.array(z.object({ caption: z.string(), header: z.array(z.string()), rows: z.array(z.array(z.string())), marked: z.array(z.boolean()), widths: z.array(z.number()), note: z.string().nullable() })),
    })),
  })),
  signature: z.object({ team: z.string(), date: z.string() }),
  source: z.object({ sealed: z.boolean(), archiveSha256: z.string().nullable(), fingerprint: z.string().nullable(), text: z.string() }),
  fileName: z.string(),
});

/** The 考察 workspace (talks, records, inquiries, 鉴定表, report) and the year's 考察 files. */
export async function inspectionRoutes(app: App): Promise<void> {
  const inspection = app.services.inspection;
  const onMeeting = { preHandler: [requireAdmin(), requireMeetingAccess] };
  const township = { preHandler: requireAdmin('township') };
  const ws = { 200: Workspace };

  app.get('/api/meetings/:id/inspection', { ...onMeeting, schema: { params: MeetingParams, response: ws } }, async (req) => inspection.workspace(req.params.id));

  app.post('/api/meetings/:id/inspection/draw', { ...onMeeting, schema: { params: MeetingParams, body: DrawBody, response: ws } }, async (req) =>
    inspection.draw(req.admin!.id, req.params.id, req.body),
  );

  app.post('/api/meetings/:id/inspection/draw/extend', { ...onMeeting, schema: { params: MeetingParams, body: ExtendBody, response: ws } }, async (req) =>
    inspection.extend(req.admin!.id, req.params.id, req.body.count),
  );

  app.get(
    '/api/meetings/:id/inspection/draw.txt',
    {
      ...onMeeting,
      config: { errors: [409] },
      schema: { params: MeetingParams, querystring: z.object({ round: Id.optional() }), produces: ['text/plain'], response: { 200: FileBody } },
    },
    async (req, reply) => send(reply, 'text/plain; charset=utf-8', await inspection.drawFile(req.params.id, req.query.round), `talk-draw-${req.params.id}.txt`),
  );

  app.post('/api/meetings/:id/inspection/talks', { ...onMeeting, schema: { params: MeetingParams, body: AddTalkBody, response: ws } }, async (req) =>
    inspection.addTalk(req.admin!.id, req.params.id, req.body),
  );

  app.patch('/api/meetings/:id/inspection/talks/:talkId', { ...onMeeting, schema: { params: TalkParams, body: TalkPatch, response: { 200: Talk } } }, async (req) =>
    inspection.updateTalk(req.admin!.id, req.params.id, req.params.talkId, req.body),
  );

  app.delete('/api/meetings/:id/inspection/talks/:talkId', { ...onMeeting, schema: { params: TalkParams, response: { 204: NoBody } } }, async (req, reply) => {
    await inspection.removeTalk(req.params.id, req.params.talkId);
    return reply.status(204).send();
  });

  app.put('/api/meetings/:id/inspection/records', { ...onMeeting, schema: { params: MeetingParams, body: RecordsBody, response: ws } }, async (req) =>
    inspection.saveRecords(req.admin!.id, req.params.id, req.body.records),
  );

  app.post('/api/meetings/:id/inspection/inquiries', { ...onMeeting, schema: { params: MeetingParams, body: InquiryBody, response: ws } }, async (req) =>
    inspection.addInquiry(req.admin!.id, req.params.id, req.body),
  );

  app.put('/api/meetings/:id/inspection/inquiries/:inquiryId', { ...onMeeting, schema: { params: InquiryParams, body: InquiryBody, response: ws } }, async (req) =>
    inspection.updateInquiry(req.admin!.id, req.params.id, req.params.inquiryId, req.body),
  );

  app.delete('/api/meetings/:id/inspection/inquiries/:inquiryId', { ...onMeeting, schema: { params: InquiryParams, response: { 204: NoBody } } }, async (req, reply) => {
    await inspection.removeInquiry(req.params.id, req.params.inquiryId);
    return reply.status(204).send();
  });

  app.put('/api/meetings/:id/inspection/appraisal', { ...onMeeting, schema: { params: MeetingParams, body: AppraisalBody, response: ws } }, async (req) =>
    inspection.saveAppraisal(req.admin!.id, req.params.id, req.body),
  );

  app.put('/api/meetings/:id/inspection/report', { ...onMeeting, schema: { params: MeetingParams, body: ReportBody, response: ws } }, async (req) =>
    inspection.saveReportTexts(req.admin!.id, req.params.id, req.body),
  );

  app.get('/api/meetings/:id/inspection/report', { ...onMeeting, config: { errors: [409] }, schema: { params: MeetingParams, response: { 200: ReportModelSchema } } }, async (req) =>
    inspection.report(req.params.id),
  );

  app.get('/api/meetings/:id/inspection/report.docx', { ...onMeeting, config: { errors: [409] }, schema: { params: MeetingParams, produces: [DOCX], response: { 200: FileBody } } }, async (req, reply) =>
    send(reply, DOCX, await inspection.reportDocx(req.params.id), `inspection-report-${req.params.id}.docx`),
  );

  // ---- the campaign ----

  app.get('/api/campaigns/:id/inspection/settings', { preHandler: requireAdmin(), schema: { params: CampaignParams, response: { 200: InspectionSettings } } }, async (req) =>
    inspection.settings(req.params.id),
  );

  app.put('/api/campaigns/:id/inspection/settings', { ...township, schema: { params: CampaignParams, body: InspectionSettings, response: { 200: InspectionSettings } } }, async (req) =>
    inspection.saveSettings(req.admin!.id, req.params.id, req.body),
  );

  app.get('/api/campaigns/:id/inspection/progress', { ...township, schema: { params: CampaignParams, response: { 200: Progress } } }, async (req) =>
    inspection.progress(req.params.id),
  );

  app.get('/api/campaigns/:id/inspection/reports.zip', { ...township, schema: { params: CampaignParams, produces: ['application/zip'], response: { 200: FileBody } } }, async (req, reply) =>
    send(reply, 'application/zip', await inspection.reportsZip(req.params.id), `inspection-reports-${req.params.id}.zip`),
  );

  app.get('/api/campaigns/:id/inspection/export', { ...township, schema: { params: CampaignParams, response: { 200: InspectionFile } } }, async (req, reply) =>
    send(reply, 'application/json; charset=utf-8', await inspection.exportYear(req.admin!.id, req.params.id), `inspection-${req.params.id}.json`),
  );

  // An uploaded file: its structure is judged (size, nesting, keys per object) before JSON.parse builds it.
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    const json = scope.getDefaultJsonParser('error', 'error');
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: FILE_LIMITS.archive.maxBytes }, (req, body, done) => {
      const bytes = body as Buffer;
      if (bytes.toString('utf8').trim() === '') return done(null, undefined);
      try {
        scanJson(bytes);
      } catch (e) {
        return done(e instanceof FileRefused ? new DomainError('FILE_LIMIT', `无法导入：${e.message}`) : (e as Error), undefined);
      }
      json(req, bytes.toString('utf8'), done);
    });
    scope.post(
      '/api/inspection/import',
      {
        ...township,
        bodyLimit: FILE_LIMITS.archive.maxBytes,
        schema: { querystring: z.object({ label: z.string().max(200).optional() }), body: z.record(z.string(), z.unknown()), response: { 200: InspectionImportResponse } },
      },
      async (req) => inspection.importFile(req.admin!.id, req.body, req.query.label ?? ''),
    );
  });

  app.get('/api/inspection/imports', { ...township, schema: { response: { 200: z.object({ imports: z.array(ImportedInspection) }) } } }, async () => ({
    imports: await inspection.listImports(),
  }));

  app.get('/api/inspection/imports/:id/file', { ...township, schema: { params: ImportParams, response: { 200: InspectionFile } } }, async (req, reply) =>
    send(reply, 'application/json; charset=utf-8', await inspection.importedFile(req.params.id), `imported-inspection-${req.params.id}.json`),
  );

  app.get('/api/inspection/imports/:id/reports.zip', { ...township, schema: { params: ImportParams, produces: ['application/zip'], response: { 200: FileBody } } }, async (req, reply) =>
    send(reply, 'application/zip', await inspection.importedReportsZip(req.params.id), `imported-inspection-reports-${req.params.id}.zip`),
  );
}
