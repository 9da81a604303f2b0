import { createReadStream } from 'node:fs';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { App } from '../app.ts';
import { requireAdmin } from '../auth/auth.guard.ts';
import { requireMeetingAccess } from '../meetings/meetings.routes.ts';
import { MeetingParams } from '../meetings/meetings.schemas.ts';
import { IdParams } from '../shared/params.ts';
import type { DownloadFile } from './archive.service.ts';
import {
  ArchiveFile, ImportedArchive, ImportResponse, MeetingArchiveFile, PublicKeyResponse, ReceiptCheckRequest, ReceiptCheckResponse, SignedArchive, YearArchiveFile,
} from './archive.schemas.ts';
import { FileBody } from '../openapi.ts';
import { FILE_LIMITS } from '../imports/limits.ts';
import { DomainError } from '../errors.ts';
import { validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';


/** A Chinese file name survives in every browser through filename* (RFC 6266); the plain one is an ASCII fallback. */
function attachment(reply: FastifyReply, filename: string, fallback: string): void {
  reply.header('content-disposition', `attachment; filename="${fallback}"; filename*=UTF-8''${encodeURIComponent(filename)}`);
  reply.header('cache-control', 'no-store');
}

/** Archive files go out as their exact bytes: re-serialising them would be a second spelling of a signed file. */
function sendFile(reply: FastifyReply, file: DownloadFile, fallback: string) {
  attachment(reply, file.filename, fallback);
  return reply.type('application/json; charset=utf-8').send(file.text);
}

export async function archiveRoutes(app: App): Promise<void> {
  const archive = app.services.archive;
  const township = { preHandler: requireAdmin('township') };

  // Public: a public key is meant to be compared by anyone holding a printed report.
  app.get('/api/archive/public-key', { schema: { response: { 200: PublicKeyResponse } } }, async () => archive.publicKey());

  app.get('/api/meetings/:id/archive', { preHandler: [requireAdmin(), requireMeetingAccess], config: { errors: [409] }, schema: { params: MeetingParams, response: { 200: MeetingArchiveFile } } }, async (req, reply) =>
    sendFile(reply, await archive.meetingArchive(req.params.id), `ceping-archive-meeting-${req.params.id}.json`),
  );

  app.get('/api/campaigns/:id/archive', { ...township, schema: { params: IdParams, response: { 200: YearArchiveFile } } }, async (req, reply) =>
    sendFile(reply, await archive.yearArchive(req.admin!.id, req.params.id), `ceping-archive-campaign-${req.params.id}.json`),
  );

  // A whole year's file is larger than an ordinary request: a township of 40 units is a few megabytes.
  // Its bytes go to the file worker unparsed (size, depth and key counts are checked before JSON.parse,
  // and verifying recounts every ballot): none of that runs on the thread that answers the phones.
  await app.register(async (plain) => {
    const scope = plain.withTypeProvider<ZodTypeProvider>();
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: FILE_LIMITS.archive.maxBytes }, (_req, body, done) => done(null, body));
    scope.post(
      '/api/archives/import',
      {
        ...township,
        bodyLimit: FILE_LIMITS.archive.maxBytes,
        config: { errors: [429] },
        // The body schema documents the file; the worker checks it (the route receives the raw bytes).
        validatorCompiler: (route) => (route.httpPart === 'body' ? (data: unknown) => ({ value: data }) : validatorCompiler(route as unknown as Parameters<typeof validatorCompiler>[0])),
        schema: { querystring: z.object({ label: z.string().max(200).optional() }), body: ArchiveFile, response: { 200: ImportResponse } },
      },
      async (req) => {
        const bytes = Buffer.isBuffer(req.body) ? req.body : null;
        if (!bytes) throw new DomainError('ARCHIVE_INVALID');
        return archive.importArchiveFile(req.admin!.id, bytes, req.query.label ?? '');
      },
    );
  });

  app.get('/api/imported-archives', { ...township, schema: { response: { 200: z.object({ archives: z.array(ImportedArchive) }) } } }, async () => ({
    archives: await archive.listImported(),
  }));

  app.get('/api/imported-archives/:id', { ...township, schema: { params: IdParams, response: { 200: z.object({ archive: ImportedArchive, file: SignedArchive }) } } }, async (req) => {
    const { archive: summary, file } = await archive.importedArchive(req.params.id);
    return { archive: summary, file: JSON.parse(file.text) as SignedArchive };
  });

  app.get('/api/imported-archives/:id/file', { ...township, schema: { params: IdParams, response: { 200: SignedArchive } } }, async (req, reply) => {
    const { file } = await archive.importedArchive(req.params.id);
    return sendFile(reply, file, `ceping-imported-archive-${req.params.id}.json`);
  });

  // Public: receipts are typed on a phone after the meeting. One bucket for everyone, keyed on nothing
  // about the asker; a receipt is 10 symbols of 31, far beyond guessing at this rate.
  app.post(
    '/api/receipts/check',
    {
      config: { rateLimit: { max: 300, timeWindow: '1 minute', keyGenerator: () => 'receipt-check', hook: 'preHandler' as const } },
      schema: { body: ReceiptCheckRequest, response: { 200: ReceiptCheckResponse } },
    },
    async (req, reply) => {
      reply.header('cache-control', 'no-store');
      return archive.checkReceipt(req.body.receipt);
    },
  );

  app.post('/api/admin/backup', { ...township, schema: { produces: ['application/vnd.sqlite3'], response: { 200: FileBody } } }, async (req, reply) => {
    const backup = await archive.databaseBackup(req.admin!.id);
    const stream = createReadStream(backup.file);
    stream.on('close', backup.cleanup);
    attachment(reply, backup.filename, backup.filename);
    return reply.type('application/vnd.sqlite3').send(stream);
  });
}
