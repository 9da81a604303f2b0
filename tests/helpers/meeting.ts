import type { TestApp } from './harness.ts';
import { loginAs, type AdminSession } from './auth.ts';
import type { Form } from '../../server/forms/form.schemas.ts';
import { redeem, type PhoneToken } from './phone.ts';

export interface MeetingOptions {
  kind?: 'village' | 'community' | 'station';
  /** People on the roster (应到). */
  roster?: number;
  members?: number;
  candidates?: number;
  /** How many to sign in at the desk with a QR each. */
  signIn?: number;
  /** Sign-ins that take a paper form instead of a QR. */
  paperSignIns?: number;
  open?: boolean;
  overrideReason?: string;
  liveK?: number;
  session?: AdminSession;
  /** Whether each phone redeems its ticket at the desk right after sign-in (as the phone page does); default true. */
  redeem?: boolean;
}

export interface TestMeeting {
  meetingId: number;
  unitId: number;
  campaignId: number;
  session: AdminSession;
  /** QR secrets (tickets) handed out at the desk, in sign-in order. */
  tickets: string[];
  shortCodes: string[];
  /** The tokens the phones made of those tickets at the desk (same order), unless redeem: false. */
  tokens: PhoneToken[];
  entryIds: number[];
  form: Form | null;
}

async function call<T>(t: TestApp, session: AdminSession, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown): Promise<T> {
  const res = await t.app.inject({ method, url, headers: session.headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url} → ${res.statusCode} ${res.body}`);
  return (res.body ? JSON.parse(res.body) : null) as T;
}

/** A meeting made through the API the way the township and the desk make one; defaults: a village of 72. */
export async function makeMeeting(t: TestApp, o: MeetingOptions = {}): Promise<TestMeeting> {
  const session = o.session ?? (await loginAs(t));
  const kind = o.kind ?? 'village';
  const rosterSize = o.roster ?? 72;
  const campaign = await call<{ id: number }>(t, session, 'POST', '/api/campaigns', { year: 2020, township: '插旗镇' });
  const unit = await call<{ id: number }>(t, session, 'POST', `/api/campaigns/${campaign.id}/units`, {
    name: '红旗村', kind, reserveCandidates: Array.from({ length: o.candidates ?? 3 }, (_, i) => `候选人${i + 1}`),
  });
  const members = Array.from({ length: o.members ?? 4 }, (_, i) => ({
    name: `成员${i + 1}`, position: i === 0 ? '党支部书记' : `委员${i}`, isSecretary: i === 0,
  }));
  await call(t, session, 'PUT', `/api/units/${unit.id}/team`, { members });
  const meeting = await call<{ id: number }>(t, session, 'POST', `/api/units/${unit.id}/meetings`, { liveK: o.liveK ?? 5 });
  const rows = Array.from({ length: rosterSize }, (_, i) => ({ name: `参会${i + 1}`, category: '党员', note: '', walkIn: false }));
  await t.app.services.roster.addMany(session.adminId, meeting.id, rows);
  await call(t, session, 'POST', `/api/meetings/${meeting.id}/start-signin`);
  const roster = await call<{ entries: { id: number }[] }>(t, session, 'GET', `/api/meetings/${meeting.id}/roster`);
  const tickets: string[] = [];
  const tokens: PhoneToken[] = [];
  const shortCodes: string[] = [];
  const entryIds: number[] = [];
  const qr = o.signIn ?? rosterSize;
  const paper = o.paperSignIns ?? 0;
  for (const [i, e] of roster.entries.slice(0, qr + paper).entries()) {
    const r = await call<{ ticket: { secret: string; shortCode: string } | null }>(
      t, session, 'POST', `/api/meetings/${meeting.id}/roster/${e.id}/sign-in`, { handout: i < qr ? 'qr' : 'paper' },
    );
    entryIds.push(e.id);
    if (r.ticket) {
      tickets.push(r.ticket.secret);
      shortCodes.push(r.ticket.shortCode);
      if (o.redeem ?? true) tokens.push(await redeem(t, r.ticket.secret));
    }
  }
  if (o.open ?? true) {
    await call(t, session, 'POST', `/api/meetings/${meeting.id}/open-voting`, { overrideReason: o.overrideReason ?? null });
  }
  const { form } = await call<{ form: Form }>(t, session, 'GET', `/api/meetings/${meeting.id}/form`);
  return { meetingId: meeting.id, unitId: unit.id, campaignId: campaign.id, session, tickets, tokens, shortCodes, entryIds, form };
}

export { call };
