import { makeTestApp, type TestApp, type TestAppOptions } from './harness.ts';
import { login, loginAs, type AdminSession } from './auth.ts';
import { call, makeMeeting, type TestMeeting } from './meeting.ts';
import { fullPackage } from './packages.ts';
import { cast as castWith, type PhoneToken } from './phone.ts';
import type { Form } from '../../server/forms/form.schemas.ts';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';

/**
 * One server with something of everything, for the tests that walk the whole API (the contract
 * test and the fuzz): meetings in each state, a sealed meeting with ballots, a pending paper ballot,
 * an imported archive, spare accounts, and a session for each role. Made through the API only.
 */
export interface World {
  t: TestApp;
  town: AdminSession;
  /** An inspection-team account assigned to the voting and the sealed meeting. */
  insp: AdminSession;
  sealed: TestMeeting & { receipts: string[] };
  /** tokens[0] has cast; tokens[1] and tokens[2] have not (the contract test casts with 1 and reissues 2). */
  voting: TestMeeting & { form: Form; pendingId: string; unusedTokens: PhoneToken[] };
  signin: TestMeeting;
  /** A meeting still in preparation, in the sealed meeting's unit. */
  draftId: number;
  importedId: number;
  /** Accounts nobody signs in with: safe to rename, disable, assign and unassign. */
  spareAdminIds: number[];
}

async function cast(t: TestApp, token: PhoneToken, pkg: BallotPackage): Promise<string> {
  const res = await castWith(t, token, pkg);
  if (res.statusCode !== 200) throw new Error(`cast → ${res.statusCode} ${res.body}`);
  return (res.json() as { receipt: string }).receipt;
}

export async function makeWorld(opts: TestAppOptions = {}): Promise<World> {
  const t = await makeTestApp(opts);
  const town = await loginAs(t);
  const insp = await loginAs(t, { role: 'inspector', username: 'kaochazu' });

  // A sealed station meeting of 4, every ballot by phone, one with a comment.
  const s = await makeMeeting(t, { kind: 'station', roster: 4, signIn: 4, session: town });
  const receipts: string[] = [];
  for (const [i, token] of s.tokens.entries()) receipts.push(await cast(t, token, fullPackage(s.form!, 1 + (i % 2), i === 0 ? '建议加强村务公开' : '')));
  await call(t, town, 'POST', `/api/meetings/${s.meetingId}/close-voting`);
  await call(t, town, 'POST', `/api/meetings/${s.meetingId}/seal`);
  const draft = await call<{ id: number }>(t, town, 'POST', `/api/units/${s.unitId}/meetings`, { location: '村委会会议室' });

  // A station meeting in voting: three QR sign-ins (one has voted), one paper form, a paper ballot awaiting its second person.
  const v = await makeMeeting(t, { kind: 'station', roster: 4, signIn: 3, paperSignIns: 1, session: town });
  await cast(t, v.tokens[0]!, fullPackage(v.form!, 1));
  const { form } = await call<{ form: Form }>(t, town, 'GET', `/api/meetings/${v.meetingId}/form`);
  const { pendingId } = await call<{ pendingId: string }>(t, town, 'POST', `/api/meetings/${v.meetingId}/paper-ballots`, { package: fullPackage(form, 2) });

  // A village meeting signing in, nobody signed in yet.
  const si = await makeMeeting(t, { kind: 'village', roster: 6, signIn: 0, open: false, session: town });

  for (const id of [s.meetingId, v.meetingId]) await call(t, town, 'POST', `/api/meetings/${id}/assignments`, { adminId: insp.adminId });

  // The sealed meeting's year, exported and imported back: an imported archive to read.
  const year = await t.app.inject({ method: 'GET', url: `/api/campaigns/${s.campaignId}/archive`, headers: town.headers });
  const imported = await t.app.inject({ method: 'POST', url: '/api/archives/import?label=year.json', headers: { ...town.headers, 'content-type': 'application/json' }, payload: year.body });
  if (imported.statusCode !== 200) throw new Error(`import → ${imported.statusCode} ${imported.body}`);
  const importedId = (imported.json() as { imported: { id: number }[] }).imported[0]!.id;

  const spareAdminIds: number[] = [];
  for (const username of ['spare1', 'spare2']) {
    const a = await call<{ id: number }>(t, town, 'POST', '/api/admins', { username, displayName: `备用账号 ${username}`, role: 'inspector', password: 'spare-password-1' });
    spareAdminIds.push(a.id);
  }

  return {
    t,
    town,
    insp,
    sealed: { ...s, receipts },
    voting: { ...v, form, pendingId, unusedTokens: v.tokens.slice(1) },
    signin: si,
    draftId: draft.id,
    importedId,
    spareAdminIds,
  };
}

/** A new session for a role's account (after a logout, say). */
export async function relogin(w: World, role: 'township' | 'inspector'): Promise<AdminSession> {
  const s = await login(w.t, role === 'township' ? 'admin' : 'kaochazu');
  if (role === 'township') w.town = s;
  else w.insp = s;
  return s;
}
