import type { ServiceDeps } from '../deps.ts';
import { DomainError } from '../errors.ts';
import { appendAudit, listAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import { Form, Template } from '../forms/form.schemas.ts';
import { resolveForm } from '../forms/resolve-form.ts';
import * as setupRepo from '../setup/setup.repository.ts';
import { computeResults, CountingError, type Results } from '../counting/tally.ts';
import { recountBallots } from '../counting/recount.ts';
import { recountComments } from '../counting/comments.ts';
import { writeMeetingArchive } from '../archive/archive.service.ts';
import type { BallotService } from '../ballots/ballots.service.ts';
import { slotBytes } from '../ballots/slots.ts';
import type { TicketService } from '../credentials/tickets.service.ts';
import type { Compactor } from '../db/compaction.ts';
import { assertGuard, canEditSetup, canOpenVoting, canSeal, canStartSignIn, type Guard } from './lifecycle.ts';
import * as repo from './meetings.repository.ts';
import { formOf, toMeetingView, turnoutOf, type MeetingView } from './meeting.view.ts';
import type { AdminPrincipal } from '../auth/auth.guard.ts';

export interface MeetingInput {
  plannedAt?: string | null | undefined;
  location?: string | undefined;
  inspectionTeam?: string | undefined;
  liveK?: number | undefined;
  projectorShowsDistributions?: boolean | undefined;
}

/** The meeting's lifecycle: draft → sign-in → voting → closed → sealed. */
export class MeetingService {
  readonly #d: ServiceDeps;
  readonly #ballots: BallotService;
  readonly #tickets: TicketService;
  readonly #compactor: Compactor;

  constructor(deps: ServiceDeps, ballots: BallotService, tickets: TicketService, compactor: Compactor) {
    this.#d = deps;
    this.#ballots = ballots;
    this.#tickets = tickets;
    this.#compactor = compactor;
  }

  async #row(id: number) {
    const m = await repo.findMeeting(this.#d.db, id);
    if (!m) throw new DomainError('NOT_FOUND');
    return m;
  }

  async get(id: number): Promise<MeetingView> {
    return toMeetingView(await this.#row(id));
  }

  async list(admin: AdminPrincipal, filter: { unitId?: number | undefined } = {}): Promise<MeetingView[]> {
    const ids = await repo.listMeetingIds(this.#d.db, {
      ...(admin.role === 'inspector' ? { adminId: admin.id } : {}),
      ...(filter.unitId !== undefined ? { unitId: filter.unitId } : {}),
    });
    return Promise.all(ids.map((r) => this.get(r.id)));
  }

  async create(actorId: number | null, unitId: number, input: MeetingInput): Promise<MeetingView> {
    if (!(await setupRepo.findUnit(this.#d.db, unitId))) throw new DomainError('NOT_FOUND');
    const id = await this.#d.db.transaction().execute(async (trx) => {
      const { id } = await repo.insertMeeting(trx, {
        unitId,
        plannedAt: input.plannedAt ?? null,
        location: input.location ?? '',
        inspectionTeam: input.inspectionTeam ?? '',
        liveK: input.liveK ?? this.#d.config.LIVE_K,
        projectorShowsDistributions: input.projectorShowsDistributions ?? false,
        createdAt: this.#d.now().toISOString(),
      });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: id, event: AuditEvent.MEETING_CREATED, detail: { unitId } });
      return id;
    });
    return this.get(id);
  }

  async update(actorId: number, id: number, input: MeetingInput): Promise<MeetingView> {
    const m = await this.#row(id);
    if (Object.values(input).every((v) => v === undefined)) throw new DomainError('NOTHING_TO_CHANGE');
    // k and the projector setting may change until voting opens; the rest only while in draft.
    const late = input.liveK !== undefined || input.projectorShowsDistributions !== undefined;
    const early = input.plannedAt !== undefined || input.location !== undefined || input.inspectionTeam !== undefined;
    if (early) assertGuard(canEditSetup(m.state));
    if (late && !['draft', 'signin'].includes(m.state)) assertGuard({ ok: false, reason: 'BAD_STATE', message: '测评开始后不能再修改此设置' });
    await this.#d.db.transaction().execute(async (trx) => {
      await repo.updateMeeting(trx, id, {
        ...(input.plannedAt !== undefined ? { planned_at: input.plannedAt } : {}),
        ...(input.location !== undefined ? { location: input.location } : {}),
        ...(input.inspectionTeam !== undefined ? { inspection_team: input.inspectionTeam } : {}),
        ...(input.liveK !== undefined ? { live_k: input.liveK } : {}),
        ...(input.projectorShowsDistributions !== undefined ? { projector_shows_distributions: input.projectorShowsDistributions ? 1 : 0 } : {}),
      });
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: id, event: AuditEvent.MEETING_UPDATED, detail: { ...input } });
    });
    return this.get(id);
  }

  /** Start sign-in: the form is resolved from the template and the unit's team, and frozen for this meeting. */
  async startSignIn(actorId: number, id: number): Promise<MeetingView> {
    const m = await this.#row(id);
    assertGuard(canStartSignIn(m.state));
    const campaign = await setupRepo.findCampaign(this.#d.db, m.campaign_id);
    const unit = await setupRepo.findUnit(this.#d.db, m.unit_id);
    if (!campaign || !unit) throw new DomainError('NOT_FOUND');
    const members = await setupRepo.listMembers(this.#d.db, [unit.id]);
    const form = resolveForm(Template.parse(JSON.parse(campaign.template_json)), {
      name: unit.name,
      members: members.map((x) => ({ id: x.id, name: x.name, position: x.position, isSecretary: x.is_secretary === 1 })),
      reserveCandidates: JSON.parse(unit.reserve_candidates_json) as string[],
    });
    // The frozen form is read back with the Form schema on every vote: refuse now what could not be read then.
    if (!Form.safeParse(form).success) throw new DomainError('TEMPLATE_INVALID', '测评表的测评对象过多或设置有误，请减少分项或检查模板后再开始签到');
    await this.#d.db.transaction().execute(async (trx) => {
      // The meeting's keys are made now: phones redeem their tickets at the desk, before voting opens.
      const fingerprint = await this.#tickets.createMeetingKeys(trx, id);
      const r = await repo.transitionMeeting(trx, id, 'draft', {
        state: 'signin',
        form_json: JSON.stringify(form),
        signin_started_at: this.#d.now().toISOString(),
        ballot_bytes: slotBytes(form),
        key_fingerprint: fingerprint,
      });
      if (r.numUpdatedRows !== 1n) throw new DomainError('BAD_STATE');
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: id, event: AuditEvent.SIGNIN_STARTED, detail: { keyFingerprint: fingerprint } });
    });
    await this.#ballots.publishTurnout(id);
    return this.get(id);
  }

  /** The form frozen when sign-in started (paper entry must use exactly this one). */
  async form(id: number): Promise<Form> {
    const form = formOf(await this.#row(id));
    if (!form) throw new DomainError('BAD_STATE', '会议尚未开始签到，测评表还没有确定');
    return form;
  }

  /** Check the opening guard without acting, so the page can show the reason before the click. */
  async openVotingGuard(id: number, overrideReason?: string | null): Promise<Guard> {
    const m = await this.#row(id);
    const t = turnoutOf(m);
    return canOpenVoting({ state: m.state, unitKind: m.unit_kind, rosterSize: t.expected, signedIn: t.present, overrideReason: overrideReason ?? null });
  }

  async openVoting(actorId: number, id: number, overrideReason?: string | null): Promise<MeetingView> {
    await this.#d.db.transaction().execute(async (trx) => {
      const m = await repo.findMeeting(trx, id);
      if (!m) throw new DomainError('NOT_FOUND');
      const t = turnoutOf(m);
      const plain = canOpenVoting({ state: m.state, unitKind: m.unit_kind, rosterSize: t.expected, signedIn: t.present });
      const guard = plain.ok ? plain : canOpenVoting({ state: m.state, unitKind: m.unit_kind, rosterSize: t.expected, signedIn: t.present, overrideReason: overrideReason ?? null });
      assertGuard(guard);
      const overridden = !plain.ok;
      await repo.transitionMeeting(trx, id, 'signin', {
        state: 'voting',
        voting_opened_at: this.#d.now().toISOString(),
        quorum_override_reason: overridden ? overrideReason!.trim() : null,
      });
      // No rehearsal token is good for anything once voting opens.
      await this.#tickets.destroyMeetingKeys(trx, id, 'rehearsal');
      await appendAudit(trx, {
        at: this.#d.now(),
        actorId,
        meetingId: id,
        event: overridden ? AuditEvent.VOTING_OPENED_OVERRIDE : AuditEvent.VOTING_OPENED,
        detail: overridden ? { reason: overrideReason!.trim(), present: t.present, needed: plain.ok ? 0 : plain.needed } : { present: t.present },
      });
    });
    await this.#ballots.publishTurnout(id);
    return this.get(id);
  }

  async closeVoting(actorId: number, id: number): Promise<MeetingView> {
    await this.#ballots.closeVoting(actorId, id);
    return this.get(id);
  }

  /**
   * Final figures, once voting has closed: computed once at close (they cannot change) and kept. The
   * kept figures must equal a recount of the stored ballots, checked again before sealing.
   */
  async results(id: number, o: { recheck?: boolean } = {}): Promise<Results> {
    const m = await this.#row(id);
    if (m.state !== 'closed' && m.state !== 'sealed') throw new DomainError('BAD_STATE', '测评结束后才能查看最终结果');
    return this.#results(m, o);
  }

  /**
   * The meeting and, once voting has closed, its final figures, from one read of its row: the reports and
   * the year summary read both, and the row (with its roster counts) is the most of what they cost.
   */
  async withResults(id: number): Promise<{ meeting: MeetingView; results: Results | null }> {
    return this.#withResults(await this.#row(id));
  }

  /** withResults for every meeting of a year, read in one query (the year summary). */
  async campaignWithResults(campaignId: number): Promise<{ meeting: MeetingView; results: Results | null }[]> {
    const rows = await repo.listCampaignMeetings(this.#d.db, campaignId);
    const out = [];
    for (const m of rows) out.push(await this.#withResults(m));
    return out;
  }

  async #withResults(m: repo.MeetingRow): Promise<{ meeting: MeetingView; results: Results | null }> {
    const closed = m.state === 'closed' || m.state === 'sealed';
    return { meeting: toMeetingView(m), results: closed ? await this.#results(m) : null };
  }

  async #results(m: repo.MeetingRow, o: { recheck?: boolean } = {}): Promise<Results> {
    const id = m.id;
    const kept = m.results_json ? (JSON.parse(m.results_json) as Results) : null;
    if (kept && !o.recheck) return kept;
    // Parsed (and checked against the schema) only for a recount: the kept figures need no form.
    const form = formOf(m)!;
    const recount = computeResults(form, await recountBallots(this.#d.db, id, form), turnoutOf(m));
    if (kept && JSON.stringify(recount) !== JSON.stringify(kept)) throw new CountingError(`meeting ${id}: kept results differ from a recount of the ballots`);
    return recount;
  }

  /** Seal after the final checks and the rebuild of the file; afterwards nothing about the meeting can change. */
  async seal(actorId: number, id: number): Promise<MeetingView> {
    const m = await this.#row(id);
    assertGuard(canSeal(m.state));
    await this.#compactor.ensure(id);
    await this.results(id, { recheck: true });
    // The comments kept at close must be those of the stored ballots too.
    if (m.comments_json !== null && m.comments_json !== JSON.stringify(await recountComments(this.#d.db, id, this.#d.pepper))) {
      throw new CountingError(`meeting ${id}: kept comments differ from the stored ballots`);
    }
    await this.#d.db.transaction().execute(async (trx) => {
      const r = await repo.transitionMeeting(trx, id, 'closed', { state: 'sealed', sealed_at: this.#d.now().toISOString() });
      if (r.numUpdatedRows !== 1n) throw new DomainError('BAD_STATE');
      await appendAudit(trx, { at: this.#d.now(), actorId, meetingId: id, event: AuditEvent.MEETING_SEALED, detail: { returned: m.cast_count } });
      // The signed archive is part of the seal: no archive, no seal.
      await writeMeetingArchive(trx, this.#d, id);
    });
    await this.#ballots.publishTurnout(id);
    return this.get(id);
  }

  async audit(id: number) {
    await this.#row(id);
    return listAudit(this.#d.db, { meetingId: id });
  }
}
