import { createHash } from 'node:crypto';
import { zipSync } from 'fflate';
import type { ServiceDeps } from '../deps.ts';
import type { DbOrTrx } from '../db/database.ts';
import { DomainError } from '../errors.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import { computeResults, type Results } from '../counting/tally.ts';
import { recountBallots } from '../counting/recount.ts';
import { findMeeting, type MeetingRow } from '../meetings/meetings.repository.ts';
import { formOf, turnoutOf } from '../meetings/meeting.view.ts';
import { assertGuard, STATE_LABELS } from '../meetings/lifecycle.ts';
import { listEntries } from '../roster/roster.repository.ts';
import * as setupRepo from '../setup/setup.repository.ts';
import { findArchive, findVerifiedImportedBySha } from '../archive/archive.repository.ts';
import { ArchiveRecord } from '../archive/archive.schemas.ts';
import { canonicalJson } from '../archive/canonical.ts';
import { canonicalPool, drawNames, meetingIdentity, normalizeName, normalizeSeed, poolDigest, seedProblem } from './draw.ts';
import { canDraw, canExtend, canRedraw, drawCount, talkMinimum, type TalkMinimum } from './talk-rules.ts';
import { buildReportModel, type ReportInput, type ReportModel } from './report.model.ts';
import { reportDocx } from './report.docx.ts';
import { drawFileText } from './draw-file.ts';
import * as repo from './inspection.repository.ts';
import {
  defaultInspectionSettings, INSPECTION_FILE_FORMAT, InspectionFile, InspectionSettings,
  type DrawInfo, type ImportedInspection, type InspectionFileUnit, type Progress, type ProgressRow, type Talk, type Workspace,
} from './inspection.schemas.ts';

export interface FileOut {
  body: Buffer;
  filename: string;
}

const ROLE_ORDER = { team: 0, drawn: 1, added: 2 } as const;

function toTalk(r: repo.TalkRow): Talk {
  return { id: r.id, name: r.name, role: r.role, detail: r.detail, drawRank: r.draw_rank, done: r.done === 1, notes: r.notes, updatedAt: r.updated_at };
}

function sortTalks(rows: repo.TalkRow[]): repo.TalkRow[] {
  return [...rows].sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role] || (a.draw_rank ?? 0) - (b.draw_rank ?? 0) || a.sort_order - b.sort_order || a.id - b.id);
}

/** The command printed on the talk list: it recomputes the draw from the candidates file. */
export function drawCommand(d: { seed: string; identity: string; drawn_count: number }, file = '候选名单.txt'): string {
  return `npx ceping draw ${file} --seed "${d.seed}" --meeting "${d.identity}" --count ${d.drawn_count}`;
}

function toDrawInfo(d: repo.DrawRow): DrawInfo {
  const pool = JSON.parse(d.pool_json) as string[];
  return {
    round: d.round, kind: d.kind, seed: d.seed, seedInput: d.seed_input, identity: d.identity, poolSize: pool.length, poolDigest: d.pool_digest,
    drawnCount: d.drawn_count, reason: d.reason, actor: d.actor, at: d.at,
    command: d.kind === 'everyone' ? '' : drawCommand(d),
  };
}

function parseSettings(row: { records_json: string; appraisal_json: string } | undefined): InspectionSettings {
  if (!row) return defaultInspectionSettings();
  return InspectionSettings.parse({ records: JSON.parse(row.records_json), appraisal: JSON.parse(row.appraisal_json) });
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function stamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** A file name without the characters Windows refuses (nor a lone surrogate, which no header can carry). */
function safeName(name: string): string {
  return name.replace(/[\\/:*?"<>|\u0000-\u001f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '_');
}

interface PoolEntry {
  name: string;
  category: string;
}

/**
 * The 考察 workspace of a meeting: the talk draw and list, records checked, special inquiries, the
 * 鉴定表, the report's texts and the report itself, and the campaign's year view and files. Talks and
 * notes live in their own tables and leave only through the workspace and the 考察 year file, never
 * with ballot figures; the report reads the sealed results through computeResults and nothing else.
 */
export class InspectionService {
  readonly #d: ServiceDeps;

  constructor(deps: ServiceDeps) {
    this.#d = deps;
  }

  async #meeting(db: DbOrTrx, id: number): Promise<MeetingRow> {
    const m = await findMeeting(db, id);
    if (!m) throw new DomainError('NOT_FOUND');
    return m;
  }

  async #settings(db: DbOrTrx, campaignId: number): Promise<InspectionSettings> {
    return parseSettings(await repo.findSettings(db, campaignId));
  }

  // ---- settings ----

  async settings(campaignId: number): Promise<InspectionSettings> {
    if (!(await setupRepo.findCampaign(this.#d.db, campaignId))) throw new DomainError('NOT_FOUND');
    return this.#settings(this.#d.db, campaignId);
  }

  async saveSettings(actorId: number, campaignId: number, s: InspectionSettings): Promise<InspectionSettings> {
    const checked = InspectionSettings.safeParse(s);
    if (!checked.success) throw new DomainError('INSPECTION_FIELDS', checked.error.issues[0]?.message);
    await this.#d.db.transaction().execute(async (trx) => {
      if (!(await setupRepo.findCampaign(trx, campaignId))) throw new DomainError('NOT_FOUND');
      await repo.saveSettings(trx, campaignId, { recordsJson: JSON.stringify(checked.data.records), appraisalJson: JSON.stringify(checked.data.appraisal), at: this.#d.now().toISOString() });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.INSPECTION_SETTINGS_UPDATED, detail: { campaignId } });
    });
    return this.#settings(this.#d.db, campaignId);
  }

  // ---- the talk pool and draw ----

  async #team(db: DbOrTrx, unitId: number) {
    return (await setupRepo.listMembers(db, [unitId])).map((m) => ({ name: m.name, position: m.position }));
  }

  /**
   * Whom the draw is from: the signed-in roster without the team members (they are always on the
   * list), matched by name; at a station every staff member on the roster, signed in or not.
   */
  async #pool(db: DbOrTrx, m: MeetingRow, team: { name: string }[]): Promise<PoolEntry[]> {
    const teamNames = new Set(team.map((t) => normalizeName(t.name)));
    return (await listEntries(db, m.id))
      .filter((e) => (m.unit_kind === 'station' || e.signed_in === 1) && !teamNames.has(normalizeName(e.name)))
      .map((e) => ({ name: normalizeName(e.name), category: e.category }));
  }

  async workspace(meetingId: number): Promise<Workspace> {
    const db = this.#d.db;
    const m = await this.#meeting(db, meetingId);
    const team = await this.#team(db, m.unit_id);
    const pool = await this.#pool(db, m, team);
    const draws = await repo.listDraws(db, meetingId);
    const current = draws.at(-1) ?? null;
    const rule: TalkMinimum = current ? (JSON.parse(current.minimum_json) as TalkMinimum) : talkMinimum(m.unit_kind, team.length, pool.length);
    const talks = sortTalks(await repo.listTalks(db, meetingId));
    const settings = await this.#settings(db, m.campaign_id);
    const stored = await repo.listRecords(db, meetingId);
    const records = [
      ...settings.records.map((label) => {
        const r = stored.find((x) => x.label === label);
        return { label, checked: r?.checked === 1, findings: r?.findings ?? '', updatedAt: r?.updated_at ?? null, inSettings: true };
      }),
      // A record kind the township has since removed keeps what the team wrote about it.
      ...stored
        .filter((r) => !settings.records.includes(r.label))
        .map((r) => ({ label: r.label, checked: r.checked === 1, findings: r.findings, updatedAt: r.updated_at, inSettings: false })),
    ];
    const appraisal = await repo.findAppraisal(db, meetingId);
    const texts = await repo.findReportTexts(db, meetingId);
    return {
      meeting: {
        id: m.id, unitId: m.unit_id, unitName: m.unit_name, unitKind: m.unit_kind, township: m.township, year: m.year, state: m.state,
        stateLabel: STATE_LABELS[m.state], inspectionTeam: m.inspection_team, plannedAt: m.planned_at,
        identity: meetingIdentity({ township: m.township, year: m.year, unitName: m.unit_name, meetingId: m.id }),
      },
      talks: {
        rule,
        pool: { size: pool.length, digest: poolDigest(pool.map((p) => p.name)) },
        team,
        draw: current ? toDrawInfo(current) : null,
        history: draws.map(toDrawInfo),
        people: talks.map(toTalk),
        done: talks.filter((t) => t.done === 1).length,
        canDraw: canDraw(m.state),
      },
      records,
      inquiries: (await repo.listInquiries(db, meetingId)).map((i) => ({ id: i.id, title: i.title, body: i.body, createdAt: i.created_at, updatedAt: i.updated_at })),
      appraisal: {
        template: settings.appraisal,
        values: appraisal ? (JSON.parse(appraisal.values_json) as Record<string, string>) : {},
        grade: appraisal?.grade ?? '',
        comment: appraisal?.comment ?? '',
        updatedAt: appraisal?.updated_at ?? null,
      },
      report: {
        section1Note: texts?.section1_note ?? '', section3: texts?.section3 ?? '', section4: texts?.section4 ?? '', section5: texts?.section5 ?? '',
        meetingNotes: texts?.meeting_notes ?? '', updatedAt: texts?.updated_at ?? null,
      },
    };
  }

  /** Rows for drawn names, each with a roster category (duplicated names take theirs in roster order). */
  #drawnRows(names: string[], pool: PoolEntry[], firstRank: number, firstOrder: number) {
    const categories = new Map<string, string[]>();
    for (const p of pool) categories.set(p.name, [...(categories.get(p.name) ?? []), p.category]);
    return names.map((name, i) => ({ name, role: 'drawn' as const, detail: categories.get(name)?.shift() ?? '', drawRank: firstRank + i, sortOrder: firstOrder + i }));
  }

  /**
   * Draw the ordinary participants to talk to (or, at a station, list every staff member). A second
   * call draws again: it needs a written reason and is refused once a drawn person has been talked to.
   */
  async draw(actorId: number, meetingId: number, body: { seed: string; count?: number | null | undefined; reason?: string | null | undefined }): Promise<Workspace> {
    await this.#d.db.transaction().execute(async (trx) => {
      const m = await this.#meeting(trx, meetingId);
      assertGuard(canDraw(m.state));
      const team = await this.#team(trx, m.unit_id);
      const pool = await this.#pool(trx, m, team);
      const min = talkMinimum(m.unit_kind, team.length, pool.length);
      const draws = await repo.listDraws(trx, meetingId);
      const current = draws.at(-1) ?? null;
      if (current) assertGuard(canRedraw({ drawnTouched: await repo.countDrawnTouched(trx, meetingId), reason: body.reason }));
      if (!min.everyone) {
        const problem = seedProblem(body.seed);
        if (problem) throw new DomainError('DRAW_SEED', problem);
      }
      const counted = drawCount(min, pool.length, body.count);
      assertGuard(counted);
      const count = counted.count!;
      const seed = min.everyone ? '' : normalizeSeed(body.seed);
      const identity = meetingIdentity({ township: m.township, year: m.year, unitName: m.unit_name, meetingId: m.id });
      const names = pool.map((p) => p.name);
      const drawn = min.everyone ? canonicalPool(names) : drawNames({ seed, identity, pool: names, count });

      if (current) await repo.deleteDrawnTalks(trx, meetingId);
      const existing = await repo.listTalks(trx, meetingId);
      if (!existing.some((t) => t.role === 'team')) {
        await repo.insertTalks(trx, meetingId, team.map((t, i) => ({ name: t.name, role: 'team' as const, detail: t.position, drawRank: null, sortOrder: i + 1 })));
      }
      await repo.insertTalks(trx, meetingId, this.#drawnRows(drawn, pool, 1, 1));
      const round = (current?.round ?? 0) + 1;
      const at = this.#d.now();
      await repo.insertDraw(trx, {
        meetingId, round, kind: current ? 'redraw' : min.everyone ? 'everyone' : 'draw', seed, seedInput: body.seed.trim(), identity,
        poolJson: JSON.stringify(canonicalPool(names)), poolDigest: poolDigest(names), drawnCount: drawn.length, minimumJson: JSON.stringify(min),
        reason: current ? body.reason!.trim() : null, actorId, at: at.toISOString(),
      });
      // The audit log's meeting column stays empty: a meeting's signed archive carries its audit log, and nothing of the talks belongs there.
      await appendAudit(trx, {
        at, actorId, meetingId: null, event: current ? AuditEvent.TALKS_REDRAWN : AuditEvent.TALKS_DRAWN,
        detail: { meetingId, round, seed, drawn: drawn.length, pool: names.length, ...(current ? { reason: body.reason!.trim() } : {}) },
      });
    });
    return this.workspace(meetingId);
  }

  /** Draw more with the same seed and pool: everyone drawn so far stays, the next names are added. */
  async extend(actorId: number, meetingId: number, count: number): Promise<Workspace> {
    await this.#d.db.transaction().execute(async (trx) => {
      const m = await this.#meeting(trx, meetingId);
      assertGuard(canDraw(m.state));
      const draws = await repo.listDraws(trx, meetingId);
      const current = draws.at(-1);
      if (!current) throw new DomainError('NOT_DRAWN');
      const pool = JSON.parse(current.pool_json) as string[];
      assertGuard(canExtend(current.drawn_count, count, pool.length, current.kind === 'everyone'));
      const all = drawNames({ seed: current.seed, identity: current.identity, pool, count });
      const team = await this.#team(trx, m.unit_id);
      // Categories come from the roster as it is now; the names come from the pool as it was drawn from.
      const roster = await this.#pool(trx, m, team);
      await repo.insertTalks(trx, meetingId, this.#drawnRows(all.slice(current.drawn_count), roster, current.drawn_count + 1, current.drawn_count + 1));
      const round = current.round + 1;
      const at = this.#d.now();
      await repo.insertDraw(trx, {
        meetingId, round, kind: 'extend', seed: current.seed, seedInput: current.seed_input, identity: current.identity, poolJson: current.pool_json,
        poolDigest: current.pool_digest, drawnCount: all.length, minimumJson: current.minimum_json, reason: null, actorId, at: at.toISOString(),
      });
      await appendAudit(trx, { at, actorId, meetingId: null, event: AuditEvent.TALKS_EXTENDED, detail: { meetingId, round, seed: current.seed, drawn: all.length, before: current.drawn_count } });
    });
    return this.workspace(meetingId);
  }

  /** The candidates file of the current draw (or of an earlier round), for `npx ceping draw`. */
  async drawFile(meetingId: number, round?: number): Promise<FileOut> {
    const m = await this.#meeting(this.#d.db, meetingId);
    const draws = await repo.listDraws(this.#d.db, meetingId);
    const d = round === undefined ? draws.at(-1) : draws.find((x) => x.round === round);
    if (!d) throw new DomainError('NOT_DRAWN');
    const text = drawFileText({ identity: d.identity, seed: d.seed, count: d.drawn_count, round: d.round, poolDigest: d.pool_digest }, JSON.parse(d.pool_json) as string[]);
    return { body: Buffer.from(text, 'utf8'), filename: `个别谈话候选名单-${safeName(m.unit_name)}-第${d.round}次.txt` };
  }

  async addTalk(actorId: number, meetingId: number, body: { name: string; detail: string }): Promise<Workspace> {
    await this.#d.db.transaction().execute(async (trx) => {
      await this.#meeting(trx, meetingId);
      if ((await repo.listDraws(trx, meetingId)).length === 0) throw new DomainError('NOT_DRAWN');
      const order = (await repo.maxTalkOrder(trx, meetingId)) + 1;
      await repo.insertTalks(trx, meetingId, [{ name: normalizeName(body.name), role: 'added', detail: body.detail, drawRank: null, sortOrder: order }], {
        at: this.#d.now().toISOString(), by: actorId,
      });
    });
    return this.workspace(meetingId);
  }

  async updateTalk(actorId: number, meetingId: number, talkId: number, patch: { done?: boolean | undefined; notes?: string | undefined }): Promise<Talk> {
    return this.#d.db.transaction().execute(async (trx) => {
      const r = await repo.updateTalk(trx, meetingId, talkId, {
        ...(patch.done !== undefined ? { done: patch.done ? 1 : 0 } : {}),
        ...(patch.notes !== undefined ? { notes: patch.notes } : {}),
        updated_at: this.#d.now().toISOString(),
        updated_by: actorId,
      });
      if (r.numUpdatedRows === 0n) throw new DomainError('NOT_FOUND');
      const row = (await repo.listTalks(trx, meetingId)).find((t) => t.id === talkId)!;
      return toTalk(row);
    });
  }

  async removeTalk(meetingId: number, talkId: number): Promise<void> {
    const r = await repo.deleteAddedTalk(this.#d.db, meetingId, talkId);
    if (r.numDeletedRows === 0n) throw new DomainError('BAD_STATE', '只能删除手动添加且尚未谈话的人员；抽中的人员和班子成员不能删除');
  }

  // ---- records, inquiries, 鉴定表, report texts ----

  async saveRecords(actorId: number, meetingId: number, records: { label: string; checked: boolean; findings: string }[]): Promise<Workspace> {
    if (new Set(records.map((r) => r.label)).size !== records.length) throw new DomainError('INSPECTION_FIELDS', '资料名称不能重复');
    await this.#d.db.transaction().execute(async (trx) => {
      await this.#meeting(trx, meetingId);
      await repo.replaceRecords(trx, meetingId, records.filter((r) => r.checked || r.findings.trim() !== ''), this.#d.now().toISOString(), actorId);
    });
    return this.workspace(meetingId);
  }

  async addInquiry(actorId: number, meetingId: number, body: { title: string; body: string }): Promise<Workspace> {
    await this.#meeting(this.#d.db, meetingId);
    await repo.insertInquiry(this.#d.db, meetingId, { ...body, at: this.#d.now().toISOString(), by: actorId });
    return this.workspace(meetingId);
  }

  async updateInquiry(actorId: number, meetingId: number, id: number, body: { title: string; body: string }): Promise<Workspace> {
    const r = await repo.updateInquiry(this.#d.db, meetingId, id, { ...body, at: this.#d.now().toISOString(), by: actorId });
    if (r.numUpdatedRows === 0n) throw new DomainError('NOT_FOUND');
    return this.workspace(meetingId);
  }

  async removeInquiry(meetingId: number, id: number): Promise<void> {
    const r = await repo.deleteInquiry(this.#d.db, meetingId, id);
    if (r.numDeletedRows === 0n) throw new DomainError('NOT_FOUND');
  }

  async saveAppraisal(actorId: number, meetingId: number, body: { values: Record<string, string>; grade: string; comment: string }): Promise<Workspace> {
    const m = await this.#meeting(this.#d.db, meetingId);
    const template = (await this.#settings(this.#d.db, m.campaign_id)).appraisal;
    const fields = new Set(template.sections.flatMap((s) => s.fields));
    const unknown = Object.keys(body.values).filter((k) => !fields.has(k));
    // The message names no key: a refusal never repeats what the request sent.
    if (unknown.length > 0) throw new DomainError('INSPECTION_FIELDS', '鉴定表中有一项不在本年度的设置里（设置可能刚被修改），请刷新页面');
    if (body.grade !== '' && !template.grades.includes(body.grade)) throw new DomainError('INSPECTION_FIELDS', `等次只能是${template.grades.join('、')}之一`);
    await repo.saveAppraisal(this.#d.db, meetingId, { valuesJson: JSON.stringify(body.values), grade: body.grade, comment: body.comment, at: this.#d.now().toISOString(), by: actorId });
    return this.workspace(meetingId);
  }

  async saveReportTexts(actorId: number, meetingId: number, body: { section1Note: string; section3: string; section4: string; section5: string; meetingNotes: string }): Promise<Workspace> {
    await this.#meeting(this.#d.db, meetingId);
    await repo.saveReportTexts(this.#d.db, meetingId, { ...body, at: this.#d.now().toISOString(), by: actorId });
    return this.workspace(meetingId);
  }

  // ---- the report ----

  /**
   * Section 二's source: the sealed meeting's results as kept at close and checked against a recount at the
   * seal (computeResults either way), and the archive the seal wrote.
   */
  async #sealed(db: DbOrTrx, m: MeetingRow): Promise<{ results: Results; archive: { sha256: string; fingerprint: string; sealedAt: string } } | null> {
    if (m.state !== 'sealed') return null;
    const form = formOf(m);
    const a = await findArchive(db, m.id);
    if (!form || !a || !m.sealed_at) throw new DomainError('ARCHIVE_NOT_READY');
    const record = JSON.parse(a.record_json) as { signer: { fingerprint: string } };
    return {
      results: m.results_json ? (JSON.parse(m.results_json) as Results) : computeResults(form, await recountBallots(db, m.id, form), turnoutOf(m)),
      archive: { sha256: a.sha256, fingerprint: record.signer.fingerprint, sealedAt: m.sealed_at },
    };
  }

  async report(meetingId: number): Promise<ReportModel> {
    const db = this.#d.db;
    const m = await this.#meeting(db, meetingId);
    const texts = await repo.findReportTexts(db, meetingId);
    const sealed = await this.#sealed(db, m);
    return buildReportModel({
      township: m.township, year: m.year, unitName: m.unit_name, unitKind: m.unit_kind, meetingDate: m.planned_at, inspectionTeam: m.inspection_team,
      team: await this.#team(db, m.unit_id),
      texts: { section1Note: texts?.section1_note ?? '', section3: texts?.section3 ?? '', section4: texts?.section4 ?? '', section5: texts?.section5 ?? '' },
      results: sealed?.results ?? null,
      archive: sealed?.archive ?? null,
      today: this.#d.now(),
    });
  }

  async reportDocx(meetingId: number): Promise<FileOut> {
    const model = await this.report(meetingId);
    return { body: await reportDocx(model), filename: safeName(model.fileName) };
  }

  // ---- the year ----

  async #campaign(campaignId: number) {
    const c = await setupRepo.findCampaign(this.#d.db, campaignId);
    if (!c) throw new DomainError('NOT_FOUND');
    return c;
  }

  /** For each unit: where its 考察 stands. */
  async progress(campaignId: number): Promise<Progress> {
    const db = this.#d.db;
    const c = await this.#campaign(campaignId);
    const settings = await this.#settings(db, campaignId);
    const fields = settings.appraisal.sections.flatMap((s) => s.fields);
    const units = await setupRepo.listUnits(db, campaignId);
    const meetings = await repo.listCampaignMeetings(db, campaignId);
    const rows: ProgressRow[] = [];
    for (const u of units) {
      const ms = meetings.filter((x) => x.unit_id === u.id);
      if (ms.length === 0) {
        const team = await this.#team(db, u.id);
        rows.push({
          unitId: u.id, unitName: u.name, unitKind: u.kind, meetingId: null, stateLabel: '尚未建会议',
          talks: { done: 0, listed: 0, minimum: talkMinimum(u.kind, team.length, 0).total, drawn: false },
          records: { checked: 0, total: settings.records.length }, appraisal: 'empty', report: 'empty', sealed: false,
        });
        continue;
      }
      for (const x of ms) {
        const ws = await this.workspace(x.meeting_id);
        const values = fields.map((f) => (ws.appraisal.values[f] ?? '').trim() !== '');
        const filled = [...values, ws.appraisal.grade !== '', ws.appraisal.comment.trim() !== ''];
        const sections = [ws.report.section3, ws.report.section4, ws.report.section5].map((s) => s.trim() !== '');
        rows.push({
          unitId: u.id, unitName: u.name, unitKind: u.kind, meetingId: x.meeting_id, stateLabel: ws.meeting.stateLabel,
          talks: { done: ws.talks.done, listed: ws.talks.people.length, minimum: ws.talks.rule.total, drawn: ws.talks.draw !== null },
          records: { checked: ws.records.filter((r) => r.inSettings && r.checked).length, total: settings.records.length },
          appraisal: filled.every(Boolean) ? 'filled' : filled.some(Boolean) ? 'partial' : 'empty',
          report: sections.every(Boolean) ? 'drafted' : sections.some(Boolean) ? 'partial' : 'empty',
          sealed: ws.meeting.state === 'sealed',
        });
      }
    }
    return { township: c.township, year: c.year, campaign: c.name, rows };
  }

  #zip(files: FileOut[]): Buffer {
    const mtime = this.#d.now();
    const entries: Record<string, [Uint8Array, { level: 0; mtime: Date }]> = {};
    for (const f of files) {
      let name = safeName(f.filename);
      for (let i = 2; name in entries; i++) name = safeName(f.filename.replace(/\.docx$/, `-${i}.docx`));
      // .docx files are already deflated: stored as they are.
      entries[name] = [new Uint8Array(f.body), { level: 0, mtime }];
    }
    return Buffer.from(zipSync(entries));
  }

  /** Every meeting's report of the year, one .docx each, in one .zip. */
  async reportsZip(campaignId: number): Promise<FileOut> {
    const c = await this.#campaign(campaignId);
    const files: FileOut[] = [];
    for (const x of await repo.listCampaignMeetings(this.#d.db, campaignId)) files.push(await this.reportDocx(x.meeting_id));
    return { body: this.#zip(files), filename: `${safeName(c.township)}${c.year}年度考察报告.zip` };
  }

  /** The year's 考察 file: everything the teams wrote, no ballot data (the report's figures come from the archives). */
  async exportYear(actorId: number, campaignId: number): Promise<FileOut> {
    const db = this.#d.db;
    const c = await this.#campaign(campaignId);
    const units: InspectionFileUnit[] = [];
    for (const x of await repo.listCampaignMeetings(db, campaignId)) {
      const m = await this.#meeting(db, x.meeting_id);
      const ws = await this.workspace(x.meeting_id);
      const draws = await repo.listDraws(db, x.meeting_id);
      const archive = m.state === 'sealed' ? await findArchive(db, m.id) : undefined;
      const appraisal = await repo.findAppraisal(db, x.meeting_id);
      const texts = await repo.findReportTexts(db, x.meeting_id);
      units.push({
        unitName: m.unit_name, unitKind: m.unit_kind, meetingId: m.id, plannedAt: m.planned_at, inspectionTeam: m.inspection_team,
        sealedAt: m.sealed_at, archiveSha256: archive?.sha256 ?? null,
        team: ws.talks.team,
        draws: draws.map((d) => ({
          round: d.round, kind: d.kind, seed: d.seed, seedInput: d.seed_input, identity: d.identity, pool: JSON.parse(d.pool_json) as string[],
          poolDigest: d.pool_digest, drawnCount: d.drawn_count, reason: d.reason, actor: d.actor, at: d.at,
        })),
        talks: ws.talks.people.map((t) => ({ name: t.name, role: t.role, detail: t.detail, drawRank: t.drawRank, done: t.done, notes: t.notes })),
        records: ws.records.filter((r) => r.checked || r.findings !== '').map((r) => ({ label: r.label, checked: r.checked, findings: r.findings })),
        inquiries: ws.inquiries.map((i) => ({ title: i.title, body: i.body, createdAt: i.createdAt })),
        appraisal: appraisal ? { values: ws.appraisal.values, grade: ws.appraisal.grade, comment: ws.appraisal.comment } : null,
        report: texts ? { section1Note: ws.report.section1Note, section3: ws.report.section3, section4: ws.report.section4, section5: ws.report.section5, meetingNotes: ws.report.meetingNotes } : null,
      });
    }
    const now = this.#d.now();
    const content = {
      format: INSPECTION_FILE_FORMAT, version: 1 as const, township: c.township, year: c.year, campaign: c.name, exportedAt: now.toISOString(),
      settings: await this.#settings(db, campaignId), units,
    };
    const file: InspectionFile = { ...content, sha256: sha256Hex(canonicalJson(content)) };
    await appendAudit(db, { at: now, actorId, meetingId: null, event: AuditEvent.INSPECTION_EXPORTED, detail: { campaignId, units: units.length } });
    return { body: Buffer.from(`${JSON.stringify(file, null, 1)}\n`, 'utf8'), filename: `考察材料-${safeName(c.township)}-${c.year}-${stamp(now)}.json` };
  }

  /** Keep a 考察 file from another Ceping (or an earlier copy of this one), read-only. */
  async importFile(actorId: number, value: unknown, label: string): Promise<{ imported: ImportedInspection | null; duplicate: boolean }> {
    const parsed = InspectionFile.safeParse(value);
    if (!parsed.success) throw new DomainError('INSPECTION_FILE_INVALID');
    const { sha256, ...content } = parsed.data;
    let canonical: string;
    try {
      canonical = canonicalJson(content);
    } catch {
      throw new DomainError('INSPECTION_FILE_INVALID');
    }
    if (sha256Hex(canonical) !== sha256) throw new DomainError('INSPECTION_FILE_INVALID', '考察材料文件已损坏或被改动（校验值不符），无法导入');
    const f = parsed.data;
    const id = await this.#d.db.transaction().execute(async (trx) => {
      const row = await repo.insertImport(trx, {
        fileSha256: sha256Hex(canonicalJson(f)), township: f.township, year: f.year, campaign: f.campaign, units: f.units.length, exportedAt: f.exportedAt,
        fileJson: JSON.stringify(f), label, importedAt: this.#d.now().toISOString(), importedBy: actorId,
      });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.INSPECTION_IMPORTED, detail: { units: f.units.length, duplicate: !row } });
      return row?.id ?? null;
    });
    if (id === null) return { imported: null, duplicate: true };
    return { imported: (await this.listImports()).find((r) => r.id === id) ?? null, duplicate: false };
  }

  async listImports(): Promise<ImportedInspection[]> {
    return (await repo.listImports(this.#d.db)).map((r) => ({
      id: r.id, township: r.township, year: r.year, campaign: r.campaign, units: r.units, exportedAt: r.exported_at, label: r.label,
      importedAt: r.imported_at, importedBy: r.imported_by,
    }));
  }

  async #imported(id: number): Promise<InspectionFile> {
    const r = await repo.findImport(this.#d.db, id);
    if (!r) throw new DomainError('NOT_FOUND');
    return InspectionFile.parse(JSON.parse(r.file_json));
  }

  async importedFile(id: number): Promise<FileOut> {
    const f = await this.#imported(id);
    return { body: Buffer.from(`${JSON.stringify(f, null, 1)}\n`, 'utf8'), filename: `导入的考察材料-${safeName(f.township)}-${f.year}-${id}.json` };
  }

  /**
   * The reports of an imported 考察 file: section 二 from the imported meeting archive it names, when
   * that archive has been imported too and verified; otherwise the section says it is missing.
   */
  async importedReportsZip(id: number): Promise<FileOut> {
    const f = await this.#imported(id);
    const files: FileOut[] = [];
    for (const u of f.units) {
      let sealed: Pick<ReportInput, 'results' | 'archive'> = { results: null, archive: null };
      const a = u.archiveSha256 ? await findVerifiedImportedBySha(this.#d.db, u.archiveSha256) : undefined;
      if (a) {
        const record = ArchiveRecord.safeParse((JSON.parse(a.file_json) as { record?: unknown }).record);
        if (record.success) {
          sealed = { results: record.data.results, archive: { sha256: u.archiveSha256!, fingerprint: record.data.signer.fingerprint, sealedAt: record.data.meeting.sealedAt } };
        }
      }
      const model = buildReportModel({
        township: f.township, year: f.year, unitName: u.unitName, unitKind: u.unitKind, meetingDate: u.plannedAt, inspectionTeam: u.inspectionTeam, team: u.team,
        texts: u.report ?? { section1Note: '', section3: '', section4: '', section5: '' },
        ...sealed,
        missingArchive: !sealed.results && u.archiveSha256 ? u.archiveSha256 : null,
        today: this.#d.now(),
      });
      files.push({ body: await reportDocx(model), filename: model.fileName });
    }
    return { body: this.#zip(files), filename: `导入-${safeName(f.township)}${f.year}年度考察报告-${id}.zip` };
  }
}
