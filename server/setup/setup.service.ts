import type { ServiceDeps } from '../deps.ts';
import { DomainError } from '../errors.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import { Template, type Form } from '../forms/form.schemas.ts';
import { standardTemplate } from '../forms/standard-template.ts';
import { resolveForm } from '../forms/resolve-form.ts';
import { checkTemplate } from '../forms/check-template.ts';
import { cleanName, cleanText } from '../shared/text.ts';
import type { UnitKind } from '../db/schema.ts';
import * as repo from './setup.repository.ts';
import type { Campaign, TeamMember, Unit } from './setup.schemas.ts';
import type { AdminPrincipal } from '../auth/auth.guard.ts';

/** Who reads the set-up: an admin, or null for the server itself (the demonstration year). */
type Reader = Pick<AdminPrincipal, 'id' | 'role'> | null;

type CampaignRow = Awaited<ReturnType<typeof repo.findCampaign>> & {};
type UnitRow = Awaited<ReturnType<typeof repo.findUnit>> & {};
type MemberRow = Awaited<ReturnType<typeof repo.listMembers>>[number];

function toCampaign(r: CampaignRow): Campaign {
  return { id: r.id, year: r.year, township: r.township, name: r.name, template: Template.parse(JSON.parse(r.template_json)) };
}

function toMember(m: MemberRow): TeamMember {
  return { id: m.id, name: m.name, position: m.position, isSecretary: m.is_secretary === 1 };
}

function toUnit(u: UnitRow, members: MemberRow[]): Unit {
  return {
    id: u.id,
    campaignId: u.campaign_id,
    name: u.name,
    kind: u.kind,
    reserveCandidates: JSON.parse(u.reserve_candidates_json) as string[],
    members: members.filter((m) => m.unit_id === u.id).map(toMember),
  };
}

/** The township's set-up: the year (campaign), its template, units, team members and reserve candidates. */
export class SetupService {
  readonly #d: ServiceDeps;
  constructor(deps: ServiceDeps) {
    this.#d = deps;
  }

  async createCampaign(actorId: number | null, input: { year: number; township: string; name?: string | undefined }): Promise<Campaign> {
    const name = input.name ?? `${input.year}年度村（社区）、部门站所党组织政治建设考察暨班子年度考核`;
    return this.#d.db.transaction().execute(async (trx) => {
      const { id } = await repo.insertCampaign(trx, {
        year: input.year, township: input.township, name,
        templateJson: JSON.stringify(standardTemplate()), createdAt: this.#d.now().toISOString(),
      });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.CAMPAIGN_CREATED, detail: { campaignId: id, year: input.year } });
      return toCampaign((await repo.findCampaign(trx, id))!);
    });
  }

  /**
   * What set-up a reader may see: everything (township, or the server itself: null), or for an
   * inspector only the units of the meetings assigned to them.
   */
  async #visibleUnits(reader: Reader): Promise<Set<number> | null> {
    if (reader === null || reader.role === 'township') return null;
    return new Set(await repo.listUnitIdsAssignedTo(this.#d.db, reader.id));
  }

  async listCampaigns(reader: Reader = null): Promise<Campaign[]> {
    const visible = await this.#visibleUnits(reader);
    const campaigns = (await repo.listCampaigns(this.#d.db)).map(toCampaign);
    if (visible === null) return campaigns;
    const withUnits = await Promise.all(campaigns.map(async (c) => (await repo.listUnits(this.#d.db, c.id)).some((u) => visible.has(u.id))));
    return campaigns.filter((_, i) => withUnits[i]);
  }

  async getCampaign(id: number, reader: Reader = null): Promise<Campaign & { units: Unit[] }> {
    const visible = await this.#visibleUnits(reader);
    const row = await repo.findCampaign(this.#d.db, id);
    const units = row ? (await repo.listUnits(this.#d.db, id)).filter((u) => visible === null || visible.has(u.id)) : [];
    // An inspector is refused alike whether the year exists or not.
    if (visible !== null && units.length === 0) throw new DomainError('FORBIDDEN', '您没有权限查看此年度的设置');
    if (!row) throw new DomainError('NOT_FOUND');
    const members = await repo.listMembers(this.#d.db, units.map((u) => u.id));
    return { ...toCampaign(row), units: units.map((u) => toUnit(u, members)) };
  }

  async updateTemplate(actorId: number | null, campaignId: number, template: Template): Promise<Campaign> {
    const parsed = Template.safeParse(template);
    if (!parsed.success) throw new DomainError('TEMPLATE_INVALID');
    const checked = checkTemplate(parsed.data);
    if (!checked.ok) throw new DomainError('TEMPLATE_INVALID', checked.message);
    return this.#d.db.transaction().execute(async (trx) => {
      if (!(await repo.findCampaign(trx, campaignId))) throw new DomainError('NOT_FOUND');
      await repo.updateTemplate(trx, campaignId, JSON.stringify(checked.template));
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.TEMPLATE_UPDATED, detail: { campaignId } });
      return toCampaign((await repo.findCampaign(trx, campaignId))!);
    });
  }

  async createUnit(actorId: number | null, campaignId: number, input: { name: string; kind: UnitKind; reserveCandidates?: string[] | undefined }): Promise<Unit> {
    if (!(await repo.findCampaign(this.#d.db, campaignId))) throw new DomainError('NOT_FOUND');
    return this.#d.db.transaction().execute(async (trx) => {
      const { id } = await repo.insertUnit(trx, { campaignId, name: input.name, kind: input.kind, candidatesJson: JSON.stringify(input.reserveCandidates ?? []) });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.UNIT_CREATED, detail: { unitId: id, name: input.name } });
      return toUnit((await repo.findUnit(trx, id))!, []);
    });
  }

  async updateUnit(actorId: number | null, unitId: number, patch: { name?: string | undefined; kind?: UnitKind | undefined; reserveCandidates?: string[] | undefined }): Promise<Unit> {
    if (patch.name === undefined && patch.kind === undefined && patch.reserveCandidates === undefined) throw new DomainError('NOTHING_TO_CHANGE');
    return this.#d.db.transaction().execute(async (trx) => {
      if (!(await repo.findUnit(trx, unitId))) throw new DomainError('NOT_FOUND');
      await repo.updateUnit(trx, unitId, {
        ...(patch.name !== undefined ? { name: patch.name } : {}),
        ...(patch.kind !== undefined ? { kind: patch.kind } : {}),
        ...(patch.reserveCandidates !== undefined ? { candidatesJson: JSON.stringify(patch.reserveCandidates) } : {}),
      });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.UNIT_UPDATED, detail: { unitId } });
      return this.#unit(trx, unitId);
    });
  }

  async deleteUnit(actorId: number | null, unitId: number): Promise<void> {
    await this.#d.db.transaction().execute(async (trx) => {
      if (!(await repo.findUnit(trx, unitId))) throw new DomainError('NOT_FOUND');
      const { n } = await repo.countMeetingsBeyondDraft(trx, unitId);
      if (Number(n) > 0) throw new DomainError('BAD_STATE', '该单位已有开始签到的会议，不能删除');
      await repo.deleteUnit(trx, unitId);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.UNIT_DELETED, detail: { unitId } });
    });
  }

  /**
   * The team as typed (or imported, already cleaned): names and positions cleaned as the team file's cells
   * are (shared/text.ts), so a name of only U+200B is refused and a U+202E cannot reverse one on the ballot.
   */
  async replaceTeam(actorId: number | null, unitId: number, members: { name: string; position: string; isSecretary: boolean }[]): Promise<Unit> {
    const cleaned = members.map((m, i) => {
      const name = cleanName(m.name);
      const position = cleanText(m.position);
      if (name === '') throw new DomainError('VALIDATION', '班子成员的姓名只含有看不见的字符，请重新填写', { fields: [`/members/${i}/name`] });
      if (position === '') throw new DomainError('VALIDATION', '班子成员的职务只含有看不见的字符，请重新填写', { fields: [`/members/${i}/position`] });
      return { ...m, name, position };
    });
    return this.#d.db.transaction().execute(async (trx) => {
      if (!(await repo.findUnit(trx, unitId))) throw new DomainError('NOT_FOUND');
      await repo.replaceMembers(trx, unitId, cleaned);
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: null, event: AuditEvent.TEAM_UPDATED, detail: { unitId, members: cleaned.length } });
      return this.#unit(trx, unitId);
    });
  }

  /** Check a team file; with commit (and no errors), replace the unit's team with its rows. */
  async importTeam(actorId: number | null, unitId: number, file: { filename: string; data: Buffer; commit: boolean }) {
    if (!(await repo.findUnit(this.#d.db, unitId))) throw new DomainError('NOT_FOUND');
    const parsed = await this.#d.files.parseTeam(file.data, file.filename);
    if (!file.commit || parsed.errors.length > 0) return { ...parsed, committed: false };
    await this.replaceTeam(actorId, unitId, parsed.rows);
    return { ...parsed, committed: true };
  }

  async getUnit(unitId: number, reader: Reader = null): Promise<Unit> {
    await this.#assertMayRead(reader, unitId);
    return this.#unit(this.#d.db, unitId);
  }

  /** The form a meeting of this unit would use now: the campaign template resolved against the unit's team. */
  async previewForm(unitId: number, reader: Reader = null): Promise<Form> {
    await this.#assertMayRead(reader, unitId);
    const unit = await this.#unit(this.#d.db, unitId);
    const campaign = await repo.findCampaign(this.#d.db, unit.campaignId);
    if (!campaign) throw new DomainError('NOT_FOUND');
    return resolveForm(toCampaign(campaign).template, { name: unit.name, members: unit.members, reserveCandidates: unit.reserveCandidates });
  }

  async #assertMayRead(reader: Reader, unitId: number): Promise<void> {
    const visible = await this.#visibleUnits(reader);
    if (visible !== null && !visible.has(unitId)) throw new DomainError('FORBIDDEN', '您没有权限查看此单位');
  }

  async #unit(db: ServiceDeps['db'] | Parameters<typeof repo.findUnit>[0], unitId: number): Promise<Unit> {
    const u = await repo.findUnit(db, unitId);
    if (!u) throw new DomainError('NOT_FOUND');
    return toUnit(u, await repo.listMembers(db, [u.id]));
  }
}
