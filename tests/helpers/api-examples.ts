import { call, makeMeeting } from './meeting.ts';
import { fullPackage } from './packages.ts';
import { TEST_PASSWORD, login } from './auth.ts';
import { castPayload, newBlinding } from './phone.ts';
import { toB64u } from '../../server/credentials/voprf.ts';
import type { World } from './world.ts';

/**
 * A request for every operation of the API that should succeed on a World, written by hand (so the
 * happy path of every route is walked), each making what it consumes (a unit to delete, a meeting to
 * seal). Keyed by "METHOD /openapi/path". A route that cannot succeed in such a world says why.
 */

export type Role = 'none' | 'township' | 'inspector';

export interface Example {
  role: Role;
  params?: Record<string, string | number>;
  query?: Record<string, string>;
  body?: unknown;
  /** Sent as is, with this content type (instead of JSON of `body`). */
  raw?: { payload: string | Buffer; contentType: string };
  /** Headers replacing the role's session (a session of its own, e.g. for logout). */
  headers?: Record<string, string>;
}

type Make = (w: World) => Promise<Example[]>;

let counter = 0;
const unique = (prefix: string) => `${prefix}${++counter}${Date.now() % 100000}`;

/** An entry of the signing-in meeting nobody has signed in yet. */
async function waitingEntry(w: World): Promise<number> {
  const { entries } = await call<{ entries: { id: number; signedIn: boolean }[] }>(w.t, w.town, 'GET', `/api/meetings/${w.signin.meetingId}/roster`);
  const e = entries.find((x) => !x.signedIn);
  if (e) return e.id;
  return (await call<{ id: number }>(w.t, w.town, 'POST', `/api/meetings/${w.signin.meetingId}/roster`, { name: unique('补录'), category: '党员' })).id;
}

/** A village meeting voting with 30 signed in (quorum overridden) and its talks drawn: made once per world. */
const villages = new WeakMap<World, Promise<number>>();
function drawnVillage(w: World): Promise<number> {
  let p = villages.get(w);
  if (!p) {
    p = (async () => {
      const m = await makeMeeting(w.t, { kind: 'village', roster: 30, signIn: 30, redeem: false, overrideReason: '签到人数不足，经考察组研究同意开始测评', session: w.town });
      await call(w.t, w.town, 'POST', `/api/meetings/${m.meetingId}/inspection/draw`, { seed: '8765 4321 09' });
      return m.meetingId;
    })();
    villages.set(w, p);
  }
  return p;
}

/** A 考察 file exported from the sealed meeting's year and imported back: made once per world. */
const inspectionImports = new WeakMap<World, Promise<number>>();
function importedInspection(w: World): Promise<number> {
  let p = inspectionImports.get(w);
  if (!p) {
    p = (async () => {
      const file = await w.t.app.inject({ method: 'GET', url: `/api/campaigns/${w.voting.campaignId}/inspection/export`, headers: w.town.headers });
      const r = await w.t.app.inject({ method: 'POST', url: '/api/inspection/import', headers: { ...w.town.headers, 'content-type': 'application/json' }, payload: file.body });
      const id = (r.json() as { imported: { id: number } | null }).imported?.id;
      if (!id) throw new Error(`inspection import → ${r.statusCode} ${r.body}`);
      return id;
    })();
    inspectionImports.set(w, p);
  }
  return p;
}

async function talksOf(w: World, meetingId: number) {
  const ws = await call<{ talks: { people: { id: number; role: string; done: boolean }[] } }>(w.t, w.town, 'GET', `/api/meetings/${meetingId}/inspection`);
  return ws.talks.people;
}

async function freshUnit(w: World, withTeam = true): Promise<number> {
  const u = await call<{ id: number }>(w.t, w.town, 'POST', `/api/campaigns/${w.sealed.campaignId}/units`, { name: unique('新村'), kind: 'station' });
  if (withTeam) {
    await call(w.t, w.town, 'PUT', `/api/units/${u.id}/team`, { members: [{ name: '王书记', position: '站长', isSecretary: true }, { name: '李委员', position: '副站长', isSecretary: false }] });
  }
  return u.id;
}

const csv = (text: string) => Buffer.from(`\ufeff${text}`, 'utf8').toString('base64');

export const EXAMPLES: Record<string, Make> = {
  'GET /healthz': async () => [{ role: 'none' }],
  'GET /api/auth/state': async () => [{ role: 'none' }],
  'POST /api/auth/login': async () => [{ role: 'none', body: { username: 'admin', password: TEST_PASSWORD } }],
  'POST /api/auth/logout': async (w) => {
    const own = await login(w.t, 'admin');
    return [{ role: 'township', headers: own.headers }];
  },
  'GET /api/auth/me': async () => [{ role: 'township' }, { role: 'inspector' }],
  'GET /api/admins': async () => [{ role: 'township' }],
  'POST /api/admins': async () => [{ role: 'township', body: { username: unique('kz'), displayName: '考察组三', role: 'inspector', password: 'another-password-1' } }],
  'PATCH /api/admins/{id}': async (w) => [{ role: 'township', params: { id: w.spareAdminIds[0]! }, body: { displayName: '改名的备用账号' } }],
  'GET /api/meetings/{meetingId}/assignments': async (w) => [{ role: 'township', params: { meetingId: w.sealed.meetingId } }],
  'POST /api/meetings/{meetingId}/assignments': async (w) => [{ role: 'township', params: { meetingId: w.signin.meetingId }, body: { adminId: w.spareAdminIds[1]! } }],
  'DELETE /api/meetings/{meetingId}/assignments/{adminId}': async (w) => [{ role: 'township', params: { meetingId: w.signin.meetingId, adminId: w.spareAdminIds[1]! } }],
  'GET /api/campaigns': async () => [{ role: 'township' }, { role: 'inspector' }],
  'POST /api/campaigns': async () => [{ role: 'township', body: { year: 2021, township: '插旗镇' } }],
  'GET /api/campaigns/{id}': async (w) => [{ role: 'township', params: { id: w.sealed.campaignId } }, { role: 'inspector', params: { id: w.sealed.campaignId } }],
  'PUT /api/campaigns/{id}/template': async (w) => {
    const c = await call<{ id: number; template: unknown }>(w.t, w.town, 'POST', '/api/campaigns', { year: 2022, township: '插旗镇' });
    return [{ role: 'township', params: { id: c.id }, body: { template: c.template } }];
  },
  'POST /api/campaigns/{id}/units': async (w) => [{ role: 'township', params: { id: w.sealed.campaignId }, body: { name: unique('东村'), kind: 'village', reserveCandidates: ['张三'] } }],
  'GET /api/units/{id}': async (w) => [{ role: 'township', params: { id: w.sealed.unitId } }, { role: 'inspector', params: { id: w.sealed.unitId } }],
  'PATCH /api/units/{id}': async (w) => [{ role: 'township', params: { id: await freshUnit(w) }, body: { name: unique('西村') } }],
  'DELETE /api/units/{id}': async (w) => [{ role: 'township', params: { id: await freshUnit(w, false) } }],
  'PUT /api/units/{id}/team': async (w) => [{ role: 'township', params: { id: await freshUnit(w, false) }, body: { members: [{ name: '赵书记', position: '党支部书记', isSecretary: true }] } }],
  'POST /api/units/{id}/team/import': async (w) => [
    { role: 'township', params: { id: await freshUnit(w, false) }, body: { filename: '班子成员.csv', dataBase64: csv('姓名,职务,是否书记\r\n赵六,党支部书记,是\r\n'), commit: true } },
  ],
  'GET /api/team-template.csv': async () => [{ role: 'inspector' }],
  'GET /api/team-template.xlsx': async () => [{ role: 'township' }],
  'GET /api/units/{id}/form-preview': async (w) => [{ role: 'township', params: { id: w.sealed.unitId } }],
  'GET /api/meetings': async () => [{ role: 'township' }, { role: 'inspector' }],
  'POST /api/units/{unitId}/meetings': async (w) => [{ role: 'township', params: { unitId: await freshUnit(w) }, body: {} }],
  'GET /api/meetings/{id}': async (w) => [
    { role: 'township', params: { id: w.draftId } },
    { role: 'township', params: { id: w.signin.meetingId } },
    { role: 'inspector', params: { id: w.voting.meetingId } },
    { role: 'inspector', params: { id: w.sealed.meetingId } },
  ],
  'PATCH /api/meetings/{id}': async (w) => [{ role: 'township', params: { id: w.draftId }, body: { location: '党群服务中心', liveK: 4 } }],
  'GET /api/meetings/{id}/form': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId } }],
  'POST /api/meetings/{id}/start-signin': async (w) => {
    const m = await call<{ id: number }>(w.t, w.town, 'POST', `/api/units/${await freshUnit(w)}/meetings`, {});
    return [{ role: 'township', params: { id: m.id } }];
  },
  'POST /api/meetings/{id}/open-voting/check': async (w) => [{ role: 'township', params: { id: w.signin.meetingId }, body: {} }],
  'POST /api/meetings/{id}/open-voting': async (w) => {
    const m = await makeMeeting(w.t, { kind: 'station', roster: 2, signIn: 2, open: false, session: w.town });
    return [{ role: 'township', params: { id: m.meetingId } }];
  },
  'POST /api/meetings/{id}/close-voting': async (w) => {
    const m = await makeMeeting(w.t, { kind: 'station', roster: 1, signIn: 1, session: w.town });
    return [{ role: 'township', params: { id: m.meetingId } }];
  },
  'POST /api/meetings/{id}/seal': async (w) => {
    const m = await makeMeeting(w.t, { kind: 'station', roster: 1, signIn: 1, session: w.town });
    await call(w.t, w.town, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    return [{ role: 'township', params: { id: m.meetingId } }];
  },
  'GET /api/meetings/{id}/results': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId } }],
  'POST /api/meetings/{id}/paper-ballots': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId }, body: { package: fullPackage(w.voting.form, 3) } }],
  'GET /api/meetings/{id}/paper-ballots/pending': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId } }],
  'POST /api/meetings/{id}/paper-ballots/{pendingId}/confirm': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId, pendingId: w.voting.pendingId }, body: {} }],
  'DELETE /api/meetings/{id}/paper-ballots/{pendingId}': async (w) => {
    const { pendingId } = await call<{ pendingId: string }>(w.t, w.town, 'POST', `/api/meetings/${w.voting.meetingId}/paper-ballots`, { package: fullPackage(w.voting.form, 1) });
    return [{ role: 'township', params: { id: w.voting.meetingId, pendingId } }];
  },
  'GET /api/meetings/{id}/audit': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId } }],
  'GET /api/meetings/{id}/roster': async (w) => [{ role: 'township', params: { id: w.signin.meetingId } }],
  'POST /api/meetings/{id}/roster': async (w) => [{ role: 'township', params: { id: w.signin.meetingId }, body: { name: '临时参会', category: '群众代表', walkIn: true } }],
  'DELETE /api/meetings/{id}/roster/{entryId}': async (w) => {
    const e = await call<{ id: number }>(w.t, w.town, 'POST', `/api/meetings/${w.signin.meetingId}/roster`, { name: unique('待删'), category: '党员' });
    return [{ role: 'township', params: { id: w.signin.meetingId, entryId: e.id } }];
  },
  'POST /api/meetings/{id}/roster/import': async (w) => [
    { role: 'township', params: { id: w.signin.meetingId }, body: { filename: '签到表.csv', dataBase64: csv('姓名,类别\r\n张三,党员\r\n'), commit: false } },
  ],
  'GET /api/roster-template.csv': async () => [{ role: 'township' }],
  'GET /api/roster-template.xlsx': async () => [{ role: 'inspector' }],
  'POST /api/meetings/{id}/roster/{entryId}/sign-in': async (w) => {
    const { entries } = await call<{ entries: { id: number; signedIn: boolean }[] }>(w.t, w.town, 'GET', `/api/meetings/${w.signin.meetingId}/roster`);
    const waiting = entries.filter((e) => !e.signedIn);
    return [
      { role: 'township', params: { id: w.signin.meetingId, entryId: waiting[0]!.id }, body: { handout: 'qr' } },
      { role: 'township', params: { id: w.signin.meetingId, entryId: waiting[1]!.id }, body: { handout: 'paper' } },
    ];
  },
  'POST /api/meetings/{id}/roster/{entryId}/undo-sign-in': async (w) => {
    const entry = await waitingEntry(w);
    await call(w.t, w.town, 'POST', `/api/meetings/${w.signin.meetingId}/roster/${entry}/sign-in`, { handout: 'qr' });
    return [{ role: 'township', params: { id: w.signin.meetingId, entryId: entry } }];
  },
  'GET /api/meetings/{id}/roster/{entryId}/ticket': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId, entryId: w.voting.entryIds[0]! } }],
  'POST /api/meetings/{id}/roster/{entryId}/ticket/show': async (w) => {
    const entry = await waitingEntry(w);
    await call(w.t, w.town, 'POST', `/api/meetings/${w.signin.meetingId}/roster/${entry}/sign-in`, { handout: 'qr' });
    return [{ role: 'township', params: { id: w.signin.meetingId, entryId: entry } }];
  },
  'POST /api/meetings/{id}/roster/{entryId}/ticket/replace': async (w) => {
    const entry = await waitingEntry(w);
    await call(w.t, w.town, 'POST', `/api/meetings/${w.signin.meetingId}/roster/${entry}/sign-in`, { handout: 'qr' });
    return [{ role: 'township', params: { id: w.signin.meetingId, entryId: entry } }];
  },
  'POST /api/meetings/{id}/roster/{entryId}/ticket/reissue': async (w) => [
    { role: 'inspector', params: { id: w.voting.meetingId, entryId: w.voting.entryIds[2]! }, body: { reason: '手机故障，无法投票' } },
  ],
  'POST /api/meetings/{id}/slips': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId }, body: { count: 2 } }],
  'POST /api/meetings/{id}/slips.pdf': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId }, body: { count: 1 } }],
  'POST /api/meetings/{id}/rehearsal': async (w) => [{ role: 'township', params: { id: w.signin.meetingId } }],
  'POST /api/voter/redeem': async (w) => {
    const entry = await waitingEntry(w);
    const r = await call<{ ticket: { secret: string } }>(w.t, w.town, 'POST', `/api/meetings/${w.signin.meetingId}/roster/${entry}/sign-in`, { handout: 'qr' });
    return [{ role: 'none', body: { ticket: r.ticket.secret, blinded: toB64u(newBlinding().blinded) } }];
  },
  'POST /api/voter/meeting': async (w) => [{ role: 'none', body: { meetingId: w.voting.meetingId, access: w.voting.tokens[0]!.access } }],
  'POST /api/voter/cast': async (w) => [{ role: 'none', body: castPayload(w.voting.tokens[1]!, fullPackage(w.voting.form, 1)) }],
  'GET /api/meetings/{id}/live': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId } }, { role: 'township', params: { id: w.sealed.meetingId } }],
  'GET /api/meetings/{id}/report': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId } }],
  'GET /api/meetings/{id}/report.xlsx': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId } }],
  'GET /api/meetings/{id}/report.csv': async (w) => [{ role: 'township', params: { id: w.sealed.meetingId } }],
  'GET /api/imported-archives/{id}/report': async (w) => [{ role: 'township', params: { id: w.importedId } }],
  'GET /api/campaigns/{id}/summary': async (w) => [{ role: 'township', params: { id: w.sealed.campaignId } }],
  'GET /api/campaigns/{id}/summary.xlsx': async (w) => [{ role: 'township', params: { id: w.sealed.campaignId } }],
  'GET /api/archive/public-key': async () => [{ role: 'none' }],
  'GET /api/meetings/{id}/archive': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId } }],
  'GET /api/campaigns/{id}/archive': async (w) => [{ role: 'township', params: { id: w.sealed.campaignId } }],
  'POST /api/archives/import': async (w) => {
    const file = await w.t.app.inject({ method: 'GET', url: `/api/meetings/${w.sealed.meetingId}/archive`, headers: w.town.headers });
    return [{ role: 'township', query: { label: 'meeting.json' }, raw: { payload: file.body, contentType: 'application/json' } }];
  },
  'GET /api/imported-archives': async () => [{ role: 'township' }],
  'GET /api/imported-archives/{id}': async (w) => [{ role: 'township', params: { id: w.importedId } }],
  'GET /api/imported-archives/{id}/file': async (w) => [{ role: 'township', params: { id: w.importedId } }],
  // ---- the 考察 workspace and the timers ----
  'GET /api/meetings/{id}/inspection': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId } }],
  'POST /api/meetings/{id}/inspection/draw': async (w) => {
    const m = await makeMeeting(w.t, { kind: 'station', roster: 3, signIn: 3, redeem: false, session: w.town });
    return [{ role: 'township', params: { id: m.meetingId }, body: {} }];
  },
  'POST /api/meetings/{id}/inspection/draw/extend': async (w) => [{ role: 'township', params: { id: await drawnVillage(w) }, body: { count: 27 } }],
  'GET /api/meetings/{id}/inspection/draw.txt': async (w) => [{ role: 'township', params: { id: await drawnVillage(w) } }],
  'POST /api/meetings/{id}/inspection/talks': async (w) => [{ role: 'township', params: { id: await drawnVillage(w) }, body: { name: unique('临时'), detail: '群众代表' } }],
  'PATCH /api/meetings/{id}/inspection/talks/{talkId}': async (w) => {
    const id = await drawnVillage(w);
    const talk = (await talksOf(w, id)).find((x) => !x.done)!;
    return [{ role: 'township', params: { id, talkId: talk.id }, body: { done: true, notes: '谈话记录要点' } }];
  },
  'DELETE /api/meetings/{id}/inspection/talks/{talkId}': async (w) => {
    const id = await drawnVillage(w);
    await call(w.t, w.town, 'POST', `/api/meetings/${id}/inspection/talks`, { name: unique('待删谈话'), detail: '' });
    const talk = (await talksOf(w, id)).filter((x) => x.role === 'added' && !x.done).at(-1)!;
    return [{ role: 'township', params: { id, talkId: talk.id } }];
  },
  'PUT /api/meetings/{id}/inspection/records': async (w) => [
    { role: 'inspector', params: { id: w.sealed.meetingId }, body: { records: [{ label: '会议记录', checked: true, findings: '记录齐全' }] } },
  ],
  'POST /api/meetings/{id}/inspection/inquiries': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId }, body: { title: '专项调查', body: '核实群众反映的问题' } }],
  'PUT /api/meetings/{id}/inspection/inquiries/{inquiryId}': async (w) => {
    const ws = await call<{ inquiries: { id: number }[] }>(w.t, w.town, 'POST', `/api/meetings/${w.sealed.meetingId}/inspection/inquiries`, { title: '待改调查' });
    return [{ role: 'township', params: { id: w.sealed.meetingId, inquiryId: ws.inquiries.at(-1)!.id }, body: { title: '已改调查', body: '结论' } }];
  },
  'DELETE /api/meetings/{id}/inspection/inquiries/{inquiryId}': async (w) => {
    const ws = await call<{ inquiries: { id: number }[] }>(w.t, w.town, 'POST', `/api/meetings/${w.sealed.meetingId}/inspection/inquiries`, { title: '待删调查' });
    return [{ role: 'township', params: { id: w.sealed.meetingId, inquiryId: ws.inquiries.at(-1)!.id } }];
  },
  'PUT /api/meetings/{id}/inspection/appraisal': async (w) => [
    { role: 'inspector', params: { id: w.sealed.meetingId }, body: { values: { 把握政治方向: '方向明确' }, grade: '好', comment: '班子团结' } },
  ],
  'PUT /api/meetings/{id}/inspection/report': async (w) => [
    { role: 'inspector', params: { id: w.sealed.meetingId }, body: { section1Note: '', section3: '工作成绩', section4: '存在问题', section5: '综合评价', meetingNotes: '' } },
  ],
  'GET /api/meetings/{id}/inspection/report': async (w) => [{ role: 'inspector', params: { id: w.sealed.meetingId } }],
  'GET /api/meetings/{id}/inspection/report.docx': async (w) => [{ role: 'township', params: { id: w.sealed.meetingId } }],
  'GET /api/campaigns/{id}/inspection/settings': async (w) => [{ role: 'inspector', params: { id: w.sealed.campaignId } }],
  'PUT /api/campaigns/{id}/inspection/settings': async (w) => {
    const settings = await call<unknown>(w.t, w.town, 'GET', `/api/campaigns/${w.voting.campaignId}/inspection/settings`);
    return [{ role: 'township', params: { id: w.voting.campaignId }, body: settings }];
  },
  'GET /api/campaigns/{id}/inspection/progress': async (w) => [{ role: 'township', params: { id: w.sealed.campaignId } }],
  'GET /api/campaigns/{id}/inspection/reports.zip': async (w) => [{ role: 'township', params: { id: w.sealed.campaignId } }],
  'GET /api/campaigns/{id}/inspection/export': async (w) => [{ role: 'township', params: { id: w.sealed.campaignId } }],
  'POST /api/inspection/import': async (w) => {
    const file = await w.t.app.inject({ method: 'GET', url: `/api/campaigns/${w.sealed.campaignId}/inspection/export`, headers: w.town.headers });
    return [{ role: 'township', query: { label: '考察材料.json' }, raw: { payload: file.body, contentType: 'application/json' } }];
  },
  'GET /api/inspection/imports': async () => [{ role: 'township' }],
  'GET /api/inspection/imports/{id}/file': async (w) => [{ role: 'township', params: { id: await importedInspection(w) } }],
  'GET /api/inspection/imports/{id}/reports.zip': async (w) => [{ role: 'township', params: { id: await importedInspection(w) } }],
  'GET /api/meetings/{id}/timers': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId } }],
  'POST /api/meetings/{id}/timers': async (w) => [{ role: 'inspector', params: { id: w.voting.meetingId }, body: { action: 'start' } }],
  'POST /api/receipts/check': async (w) => [{ role: 'none', body: { receipt: w.sealed.receipts[0]! } }, { role: 'none', body: { receipt: 'XXXX-XXXX' } }],
};

/** Operations that cannot answer 2xx on a World, and why (each is still walked for its refusals). */
export const NO_SUCCESS_HERE: Record<string, string> = {
  'POST /api/auth/setup': 'the first admin exists already (SETUP_DONE); set-up is tested in auth.test.ts',
  'POST /api/admin/backup': 'meetings are signing in and voting (BACKUP_DURING_MEETING); the download is tested in archive.test.ts',
  'GET /api/meetings/{id}/live/ws': 'a websocket: app.inject cannot upgrade (426); the socket is walked with injectWS',
};

/** The order of the walk: reads first, then writes, consuming operations last. */
export function walkOrder(key: string): number {
  const [method = '', path = ''] = key.split(' ');
  if (path === '/api/auth/logout') return 4;
  if (method === 'GET') return 0;
  if (/seal|close-voting|open-voting$|start-signin|DELETE/.test(`${method} ${path}`)) return 2;
  return 1;
}
