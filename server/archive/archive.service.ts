import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { KeyObject } from 'node:crypto';
import type { ServiceDeps } from '../deps.ts';
import type { DbOrTrx } from '../db/database.ts';
import type { RandomSource } from '../credentials/secrets.ts';
import { hashSecret, normalizeReceipt } from '../credentials/secrets.ts';
import { DomainError } from '../errors.ts';
import { appendAudit, listAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import { findReceipt, listBallots } from '../ballots/ballots.repository.ts';
import type { NormalizedPackage } from '../ballots/validate-package.ts';
import { computeResults, CountingError, sumRows, tallyIncrements } from '../counting/tally.ts';
import { findMeeting } from '../meetings/meetings.repository.ts';
import { formOf, turnoutOf } from '../meetings/meeting.view.ts';
import { findCampaign } from '../setup/setup.repository.ts';
import { archiveFileText, buildArchiveRecord, signArchive, signYearArchive } from './archive.build.ts';
import { verifyMeetingArchive } from './archive.verify.ts';
import type { PreparedImport } from './archive.import.ts';
import { publicKeyInfo, type PublicKeyInfo } from './signing.ts';
import { backupDatabaseFile, DB_FILE } from './backup.ts';
import { openSqliteStore } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { readStore, writeStore } from './transfer.ts';
import * as repo from './archive.repository.ts';
import { Results } from '../counting/results.schemas.ts';
import { ArchiveRecord, type ImportedArchive, type ImportResponse, type ReceiptCheckResponse, type YearManifest } from './archive.schemas.ts';

export interface ArchiveDeps {
  now: () => Date;
  random: RandomSource;
  signingKey: KeyObject;
}

/** Audit details that point at roster entries are left out: the archive carries no key into the sign-in sheet. */
function archivedDetail(detail: Record<string, unknown>): Record<string, unknown> {
  const { entryId: _entryId, ...rest } = detail;
  return rest;
}

/**
 * Write the archive of a meeting that has just been sealed, inside the seal's transaction: if the
 * archive cannot be written, or does not verify, the seal does not happen.
 */
export async function writeMeetingArchive(trx: DbOrTrx, deps: ArchiveDeps, meetingId: number): Promise<void> {
  const m = await findMeeting(trx, meetingId);
  if (!m || m.state !== 'sealed' || !m.sealed_at) throw new DomainError('BAD_STATE');
  const form = formOf(m);
  const campaign = await findCampaign(trx, m.campaign_id);
  if (!form || !campaign) throw new DomainError('NOT_FOUND');
  const turnout = turnoutOf(m);
  const ballots = (await listBallots(trx, meetingId)).map((b) => JSON.parse(b.package_json) as NormalizedPackage);
  const results = computeResults(form, sumRows(ballots.flatMap((b) => tallyIncrements(form, b))), turnout);
  const roster = (await repo.rosterCounts(trx, meetingId)).map((r) => ({ category: r.category, expected: Number(r.expected), present: Number(r.present ?? 0) }));
  const audit = (await listAudit(trx, { meetingId, limit: 1_000_000 })).map((e) => ({ at: e.at, event: e.event, actor: e.actor, detail: archivedDetail(e.detail) }));

  const record = buildArchiveRecord(
    {
      township: campaign.township,
      year: campaign.year,
      campaign: campaign.name,
      unit: { name: m.unit_name, kind: m.unit_kind },
      meeting: {
        id: m.id,
        plannedAt: m.planned_at,
        location: m.location,
        inspectionTeam: m.inspection_team,
        signinStartedAt: m.signin_started_at,
        votingOpenedAt: m.voting_opened_at,
        votingClosedAt: m.voting_closed_at,
        sealedAt: m.sealed_at,
        quorumOverrideReason: m.quorum_override_reason,
        keyFingerprint: m.key_fingerprint,
      },
      form,
      turnout,
      results,
      ballots,
      roster: { expected: turnout.expected, present: turnout.present, categories: roster },
      audit,
    },
    deps.signingKey,
    deps.random,
  );
  const signed = signArchive(record, deps.signingKey);
  const check = verifyMeetingArchive(JSON.parse(archiveFileText(signed)));
  if (!check.ok) {
    const failed = check.checks.filter((c) => !c.ok).map((c) => c.en).join('; ');
    throw new CountingError(`meeting ${meetingId}: the archive does not verify: ${failed}`);
  }
  await repo.insertArchive(trx, { meetingId, recordJson: signed.canonical, sha256: signed.sha256, signature: signed.signature, createdAt: deps.now().toISOString() });
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

function toImported(r: Awaited<ReturnType<typeof repo.listImported>>[number]): ImportedArchive {
  const report = JSON.parse(r.report_json) as { problems: string[] };
  return {
    id: r.id,
    township: r.township,
    year: r.year,
    unitName: r.unit_name,
    sealedAt: r.sealed_at,
    sha256: r.sha256,
    fingerprint: r.fingerprint,
    verified: r.verified === 1,
    problems: report.problems,
    importedAt: r.imported_at,
    importedBy: r.imported_by,
    source: JSON.parse(r.source_json) as ImportedArchive['source'],
  };
}

export interface DownloadFile {
  text: string;
  filename: string;
}

/** Archives, year files, their import, the voters' inclusion check and the database download. */
export class ArchiveService {
  readonly #d: ServiceDeps;

  constructor(deps: ServiceDeps) {
    this.#d = deps;
  }

  publicKey(): PublicKeyInfo {
    return publicKeyInfo(this.#d.signingKey);
  }

  /** The signed archive file of a sealed meeting, byte for byte as verify expects it. */
  async meetingArchive(meetingId: number): Promise<DownloadFile> {
    const m = await findMeeting(this.#d.db, meetingId);
    if (!m) throw new DomainError('NOT_FOUND');
    const a = await repo.findArchive(this.#d.db, meetingId);
    if (!a) throw new DomainError('ARCHIVE_NOT_READY');
    const record = JSON.parse(a.record_json) as Record<string, unknown>;
    return {
      text: archiveFileText({ record, sha256: a.sha256, signature: a.signature }),
      filename: `测评档案-${m.township}-${m.year}-${m.unit_name}-${meetingId}.json`,
    };
  }

  /** One file for a campaign (a township's year): a signed manifest and every sealed meeting's archive. */
  async yearArchive(actorId: number, campaignId: number): Promise<DownloadFile> {
    const campaign = await findCampaign(this.#d.db, campaignId);
    if (!campaign) throw new DomainError('NOT_FOUND');
    const rows = await repo.listCampaignArchives(this.#d.db, campaignId);
    const archives = rows.map((r) => ({ record: JSON.parse(r.record_json) as Record<string, unknown>, sha256: r.sha256, signature: r.signature }));
    const now = this.#d.now();
    const manifest: Omit<YearManifest, 'signer'> = {
      township: campaign.township,
      year: campaign.year,
      campaign: campaign.name,
      campaignId,
      exportedAt: now.toISOString(),
      meetings: rows.map((r) => ({ meetingId: r.meeting_id, unitName: r.unit_name, sealedAt: r.sealed_at ?? '', sha256: r.sha256 })),
    };
    const file = signYearArchive(manifest, archives, this.#d.signingKey);
    await appendAudit(this.#d.db, { at: now, actorId, meetingId: null, event: AuditEvent.ARCHIVE_YEAR_EXPORTED, detail: { campaignId, meetings: rows.length } });
    return { text: archiveFileText(file), filename: `测评档案-${campaign.township}-${campaign.year}-全年-${stamp(now)}.json` };
  }

  /**
   * Store archives from another Ceping (a year file or one meeting's file), read-only, each with the
   * result of verifying it. The file is read and verified in the file worker (prepareArchiveImport),
   * under size, depth and key-count limits; only the storing happens here.
   */
  async importArchiveFile(actorId: number, file: Buffer, label: string): Promise<ImportResponse> {
    return this.storeImport(actorId, await this.#d.files.prepareArchive(file), label);
  }

  async storeImport(actorId: number, prepared: PreparedImport, label: string): Promise<ImportResponse> {
    const now = this.#d.now().toISOString();
    const manifest = prepared.manifest;
    const source = { format: prepared.format, label, exportedAt: prepared.exportedAt, manifestVerified: manifest?.verified ?? null };
    let duplicates = 0;
    const ids = await this.#d.db.transaction().execute(async (trx) => {
      const ids: number[] = [];
      for (const a of prepared.archives) {
        if (a === null) continue;
        const row = await repo.insertImported(trx, {
          fileSha256: a.fileSha256,
          sha256: a.sha256,
          fileJson: a.fileJson,
          verified: a.verified,
          reportJson: a.reportJson,
          township: a.township,
          year: a.year,
          unitName: a.unitName,
          sealedAt: a.sealedAt,
          fingerprint: a.fingerprint,
          sourceJson: JSON.stringify(source),
          importedAt: now,
          importedBy: actorId,
        });
        if (row) ids.push(row.id);
        else duplicates += 1;
      }
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.ARCHIVE_IMPORTED, detail: { format: source.format, imported: ids.length, duplicates } });
      return ids;
    });
    const all = await repo.listImported(this.#d.db);
    return { imported: all.filter((r) => ids.includes(r.id)).map(toImported), duplicates, manifest };
  }

  async listImported(): Promise<ImportedArchive[]> {
    return (await repo.listImported(this.#d.db)).map(toImported);
  }

  /** One imported archive: its summary and the file as received (verifiable again with `ceping verify`). */
  async importedArchive(id: number): Promise<{ archive: ImportedArchive; file: DownloadFile }> {
    const r = await repo.findImported(this.#d.db, id);
    if (!r) throw new DomainError('NOT_FOUND');
    const archive = toImported(r);
    return { archive, file: { text: `${r.file_json}\n`, filename: `导入档案-${r.township}-${r.year}-${r.unit_name}-${r.id}.json` } };
  }

  /** The signed record of an imported meeting archive, with its verification as found at import. */
  async importedRecord(id: number): Promise<{ archive: ImportedArchive; record: ArchiveRecord }> {
    const r = await repo.findImported(this.#d.db, id);
    if (!r) throw new DomainError('NOT_FOUND');
    const parsed = ArchiveRecord.safeParse((JSON.parse(r.file_json) as { record?: unknown }).record);
    // An archive that failed verification is kept as received: its figures may have any shape.
    const results = parsed.success ? Results.safeParse(parsed.data.results) : null;
    if (!parsed.success || !results?.success) throw new DomainError('BAD_STATE', '该档案的内容无法读取，请下载后用 ceping verify 核验');
    return { archive: toImported(r), record: { ...parsed.data, results: results.data } };
  }

  /**
   * A voter's receipt: counted or not, and nothing else (no part of the ballot, no time). Answers only
   * once the meeting is sealed, when the count is final.
   */
  async checkReceipt(input: string): Promise<ReceiptCheckResponse> {
    const notFound: ReceiptCheckResponse = { found: false, status: 'not_found', message: '未找到' };
    const receipt = normalizeReceipt(input);
    if (!receipt) return notFound;
    const row = await findReceipt(this.#d.db, hashSecret(this.#d.pepper, 'receipt', receipt));
    if (!row) return notFound;
    const m = await findMeeting(this.#d.db, row.meeting_id);
    if (!m) return notFound;
    if (m.state !== 'sealed') return { found: false, status: 'not_sealed', message: '会议结果封存后才能查询' };
    return { found: true, status: 'included', message: '已计入', unitName: m.unit_name };
  }

  /**
   * A consistent copy of the live database, made in a private folder under DATA_DIR; the caller
   * streams it and calls cleanup(). The key files are not in it (see backup.ts). On PostgreSQL it is the
   * same SQLite file, made by copying every row into a new one (transfer.ts): a Ceping started on it
   * shows the same year.
   */
  async databaseBackup(actorId: number): Promise<{ file: string; filename: string; cleanup: () => void }> {
    const store = this.#d.store;
    const source = store.dialect === 'sqlite' ? store.file : null;
    if (source === ':memory:' || source === '') throw new DomainError('BAD_STATE', '内存数据库无法备份');
    // Two copies taken minutes apart during a meeting could be compared row by row; none is handed out then.
    const active = await this.#d.db.selectFrom('meetings').select('id').where('state', 'in', ['signin', 'voting']).limit(1).execute();
    if (active.length > 0) throw new DomainError('BACKUP_DURING_MEETING');
    const dir = mkdtempSync(path.join(this.#d.config.DATA_DIR, '.backup-'));
    const file = path.join(dir, DB_FILE);
    try {
      if (source !== null) await backupDatabaseFile(source, file);
      else await copyIntoSqliteFile(this.#d.db, file);
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
    const now = this.#d.now();
    await appendAudit(this.#d.db, { at: now, actorId, meetingId: null, event: AuditEvent.BACKUP_DOWNLOADED });
    return { file, filename: `ceping-${stamp(now)}.db`, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  }
}

/** Every row of a PostgreSQL store into a new SQLite file (the admin page's download on PostgreSQL). */
async function copyIntoSqliteFile(db: DbOrTrx, file: string): Promise<void> {
  const dump = await readStore(db as never);
  const target = openSqliteStore(file);
  try {
    await migrateToLatest(target.db);
    await writeStore(target.db, dump);
  } finally {
    await target.db.destroy();
  }
}
