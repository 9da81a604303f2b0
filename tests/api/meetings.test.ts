import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting } from '../helpers/meeting.ts';
import { loginAs } from '../helpers/auth.ts';
import { seedDemo } from '../../server/demo/demo.ts';
import { standardTemplate } from '../../server/forms/standard-template.ts';

describe('meeting lifecycle', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (m: { session: { headers: Record<string, string> } }, url: string, payload: object = {}) =>
    t.app.inject({ method: 'POST', url, headers: m.session.headers, payload });

  it('refuses to open a village meeting below 70 sign-ins, with the reason, until a written override', async () => {
    const m = await makeMeeting(t, { kind: 'village', roster: 80, signIn: 69, open: false });
    const check = await post(m, `/api/meetings/${m.meetingId}/open-voting/check`);
    expect(check.json()).toMatchObject({ ok: false, reason: 'QUORUM_NOT_MET', needed: 70, present: 69 });
    const refused = await post(m, `/api/meetings/${m.meetingId}/open-voting`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('QUORUM_NOT_MET');
    expect(refused.json().error.message).toContain('签到 69 人');
    expect(refused.json().error.details).toEqual({ needed: 70, present: 69 });
    const tooShort = await post(m, `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '好' });
    expect(tooShort.json().error.code).toBe('OVERRIDE_REASON');

    const ok = await post(m, `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '暴雨，部分村民小组长无法到会' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ state: 'voting', quorumOverrideReason: '暴雨，部分村民小组长无法到会' });
    const audit = await call<{ entries: { event: string; detail: Record<string, unknown> }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/audit`);
    const override = audit.entries.find((e) => e.event === 'meeting.voting_opened_quorum_override');
    expect(override?.detail).toMatchObject({ reason: '暴雨，部分村民小组长无法到会', present: 69, needed: 70 });
  });

  it('uses 40 for a community and the whole roster for a station', async () => {
    const c = await makeMeeting(t, { kind: 'community', roster: 45, signIn: 40, open: false });
    expect((await post(c, `/api/meetings/${c.meetingId}/open-voting/check`)).json()).toEqual({ ok: true });
    const s = await makeMeeting(t, { kind: 'station', roster: 12, signIn: 11, open: false, session: c.session });
    expect((await post(s, `/api/meetings/${s.meetingId}/open-voting/check`)).json()).toMatchObject({ ok: false, needed: 12, present: 11 });
  });

  it('follows draft → sign-in → voting → closed → sealed, and nothing changes after the seal', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 5, signIn: 4, open: false });
    expect((await post(m, `/api/meetings/${m.meetingId}/close-voting`)).json().error.code).toBe('BAD_STATE');
    expect((await post(m, `/api/meetings/${m.meetingId}/seal`)).json().error.code).toBe('BAD_STATE');
    expect((await post(m, `/api/meetings/${m.meetingId}/start-signin`)).json().error.code).toBe('BAD_STATE');
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '一人出差在外' });
    const early = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/results`, headers: m.session.headers });
    expect(early.json().error.message).toBe('测评结束后才能查看最终结果');
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const results = await call<{ turnout: object }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/results`);
    expect(results.turnout).toEqual({ expected: 5, present: 4, issued: 4, returned: 0, paper: 0, paperIssued: 0, reissued: 0 });
    const frozen = await call<{ form: { parts: { key: string }[] } }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/form`);
    expect(frozen.form.parts.map((p) => p.key)).toEqual(['A', 'B', 'C', 'D', 'E']);
    const sealed = await call<{ state: string; sealedAt: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/seal`);
    expect(sealed.state).toBe('sealed');

    const roster = await call<{ entries: { id: number; signedIn: boolean }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`);
    const unsigned = roster.entries.find((e) => !e.signedIn)!;
    for (const [url, body] of [
      [`/api/meetings/${m.meetingId}/roster/${unsigned.id}/sign-in`, { handout: 'qr' }],
      [`/api/meetings/${m.meetingId}/roster`, { name: '迟到者', category: '站所职工' }],
      [`/api/meetings/${m.meetingId}/paper-ballots`, { package: {} }],
      [`/api/meetings/${m.meetingId}/slips`, { count: 1 }],
      [`/api/meetings/${m.meetingId}/close-voting`, {}],
    ] as const) {
      const res = await post(m, url, body);
      expect(res.statusCode, url).toBe(409);
      expect(res.json().error.code, url).toBe('MEETING_SEALED');
    }
    const events = (await call<{ entries: { event: string }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/audit`)).entries.map((e) => e.event);
    expect(events.filter((e) => !e.startsWith('roster.'))).toEqual([
      'meeting.created', 'meeting.signin_started', 'meeting.voting_opened_quorum_override', 'meeting.voting_closed', 'meeting.sealed',
    ]);
    // The audit log is append-only in the database itself.
    await expect(sql`update audit_log set event = ${'x'}`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(t.db)).rejects.toThrow(/append-only/);
  });

  it('refuses a database download while a meeting is signing in or voting', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 3, open: false });
    const res = await t.app.inject({ method: 'POST', url: '/api/admin/backup', headers: m.session.headers });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('BACKUP_DURING_MEETING');
  });

  it('signs each entry in once, issues one ballot per sign-in, and takes walk-ins', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 1, open: false });
    const again = await post(m, `/api/meetings/${m.meetingId}/roster/${m.entryIds[0]}/sign-in`, { handout: 'qr' });
    expect(again.json().error).toEqual({ code: 'ALREADY_SIGNED_IN', message: '此人已签到' });
    const walkIn = await call<{ id: number; walkIn: boolean }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster`, { name: '临时参会', category: '站所职工', walkIn: true });
    expect(walkIn.walkIn).toBe(true);
    const signed = await call<{ ticket: { secret: string; shortCode: string; url: string; serial: number | null } }>(
      t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${walkIn.id}/sign-in`, { handout: 'qr' },
    );
    expect(signed.ticket.secret).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(signed.ticket.shortCode).toMatch(/^[2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4}$/);
    expect(signed.ticket.url).toBe(`http://192.0.2.10:8080/v/#${signed.ticket.secret}`);
    expect(signed.ticket.serial).toBeNull();
    const meeting = await call<{ turnout: object }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}`);
    expect(meeting.turnout).toEqual({ expected: 4, present: 2, issued: 2, returned: 0, paper: 0, paperIssued: 0, reissued: 0 });
  });

  it('imports a roster file: preview with per-row errors first, nothing saved until a clean commit', async () => {
    const m = await makeMeeting(t, { kind: 'village', roster: 0, signIn: 0, open: false });
    const bad = '\ufeff姓名,类别,备注\n张三,党员,\n,群众代表,\n李四,党员,\n';
    const preview = await call<{ rows: unknown[]; errors: { row: number; message: string }[]; committed: boolean }>(
      t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/import`, { filename: '签到表.csv', dataBase64: Buffer.from(bad).toString('base64'), commit: true },
    );
    expect(preview.committed).toBe(false);
    expect(preview.errors).toEqual([{ row: 3, message: '第3行：姓名为空' }]);
    expect((await call<{ entries: unknown[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`)).entries).toHaveLength(0);
    const good = '\ufeff姓名,类别,备注\n张三,党员,\n王五,群众代表,\n李四,党员,\n';
    const done = await call<{ committed: boolean }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/import`, {
      filename: '签到表.csv', dataBase64: Buffer.from(good).toString('base64'), commit: true,
    });
    expect(done.committed).toBe(true);
    const entries = (await call<{ entries: { name: string }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`)).entries;
    expect(entries.map((e) => e.name)).toEqual(['张三', '王五', '李四']);
  });

  it('cleans a name typed at the desk as an import cleans it, and refuses one left empty (only U+200B)', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 0, signIn: 0, open: false });
    const url = `/api/meetings/${m.meetingId}/roster`;
    for (const [name, field, message] of [
      ['\u200b', '/name', '姓名只含有看不见的字符，请重新填写'],
      [' \u200b\u200d\ufeff\u202e ', '/name', '姓名只含有看不见的字符，请重新填写'],
    ] as const) {
      const res = await post(m, url, { name, category: '站所职工' });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toEqual({ code: 'VALIDATION', message, details: { fields: [field] } });
    }
    const blankCategory = await post(m, url, { name: '张三', category: '\u2060' });
    expect(blankCategory.json().error).toEqual({ code: 'VALIDATION', message: '类别只含有看不见的字符，请重新填写', details: { fields: ['/category'] } });
    expect((await call<{ entries: unknown[] }>(t, m.session, 'GET', url)).entries).toHaveLength(0);
    // A right-to-left override (shows 张三 as 三张), zero-width and soft-hyphen characters, a space in a Chinese
    // name, a tab: the same entry the import makes of the same cells.
    const typed = { name: '\u202e张\u200b 三\u00ad', category: '站所\t 职工', note: '第一\u2066村民小组\u2069' };
    const added = await call<{ name: string; category: string; note: string }>(t, m.session, 'POST', url, typed);
    expect(added).toMatchObject({ name: '张三', category: '站所 职工', note: '第一村民小组' });
    const csv = `姓名,类别,备注\n${typed.name},${typed.category},${typed.note}\n`;
    const preview = await call<{ rows: unknown[] }>(t, m.session, 'POST', `${url}/import`, { filename: '签到表.csv', dataBase64: Buffer.from(csv).toString('base64'), commit: false });
    expect(preview.rows).toEqual([{ name: added.name, category: added.category, note: added.note }]);
  });

  it('cleans the team typed in set-up as a team file is cleaned, and refuses a member whose name is left empty', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 0, signIn: 0, open: false });
    const url = `/api/units/${m.unitId}/team`;
    const put = (members: object[]) => t.app.inject({ method: 'PUT', url, headers: m.session.headers, payload: { members } });
    const blank = await put([{ name: '站长', position: '站长', isSecretary: true }, { name: '\u200b\u200b', position: '副站长', isSecretary: false }]);
    expect(blank.statusCode, blank.body).toBe(400);
    expect(blank.json().error).toEqual({ code: 'VALIDATION', message: '班子成员的姓名只含有看不见的字符，请重新填写', details: { fields: ['/members/1/name'] } });
    const ok = await put([{ name: '\u202e王\u200b 五', position: '站长\u2066', isSecretary: true }]);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().members.map((x: { name: string; position: string }) => [x.name, x.position])).toEqual([['王五', '站长']]);
  });

  it('cleans the template\'s labels as names are cleaned: refuses an item of only U+200B, items the same once cleaned, a grade keyed abstain', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 0, signIn: 0, open: false });
    const url = `/api/campaigns/${m.campaignId}/template`;
    const put = (template: object) => t.app.inject({ method: 'PUT', url, headers: m.session.headers, payload: { template } });
    const withA = (change: (a: Record<string, any>) => void) => {
      const tpl = standardTemplate();
      change(tpl.parts[0] as Record<string, any>);
      return tpl;
    };
    for (const [template, message] of [
      [withA((a) => a.source.items.push('\u200b')), '第 A 部分的测评项目为空（只含有空格或看不见的字符）'],
      [withA((a) => a.source.items.push('总体\u200b评价\u202e')), '第 A 部分的测评项目有重复（去掉空格和看不见的字符后相同）'],
      [withA((a) => (a.grades[3].key = 'abstain')), '第 A 部分的评价等次代码不能是 abstain：这个代码留给「弃权/不了解」选项，请换一个代码'],
      [withA((a) => (a.grades[3].key = 'good')), '第 A 部分的评价等次代码有重复'],
    ] as const) {
      const res = await put(template);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toEqual({ code: 'TEMPLATE_INVALID', message });
    }
    const criteria = standardTemplate();
    (criteria.parts[1] as Record<string, any>).source.criteria = ['工作作风', '工作\u2060作风 '];
    expect((await put(criteria)).json().error.message).toBe('第 B 部分的测评项目有重复（去掉空格和看不见的字符后相同）');
    // Accepted, the labels are kept cleaned.
    const ok = await put(withA((a) => { a.source.items[0] = '\u202e把握\u200b政治方向 '; a.title = '党组织政治建设\u00ad民主测评表'; }));
    expect(ok.statusCode, ok.body).toBe(200);
    const a = ok.json().template.parts[0];
    expect([a.title, a.source.items[0]]).toEqual(['党组织政治建设民主测评表', '把握政治方向']);
  });

  it('lets an inspector act only on the meetings assigned to it', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 3, signIn: 0, open: false });
    const inspector = await loginAs(t, { role: 'inspector', username: 'kcz1' });
    const refused = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/roster`, headers: inspector.headers });
    expect(refused.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: '/api/campaigns', headers: inspector.headers, payload: { year: 2021, township: '插旗镇' } })).statusCode).toBe(403);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: inspector.adminId });
    const ok = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/roster`, headers: inspector.headers });
    expect(ok.statusCode).toBe(200);
    const list = await call<{ meetings: { id: number }[] }>(t, inspector, 'GET', '/api/meetings');
    expect(list.meetings.map((x) => x.id)).toEqual([m.meetingId]);
  });

  it('seeds the demonstration year: 插旗镇 2020 with rosters of 72, 45 and 12', async () => {
    const session = await loginAs(t);
    const campaignId = await seedDemo(t.app.services, session.adminId);
    expect(await seedDemo(t.app.services, session.adminId)).toBe(campaignId);
    const meetings = await call<{ meetings: { unitName: string; unitKind: string; turnout: { expected: number } }[] }>(t, session, 'GET', '/api/meetings');
    expect(meetings.meetings.map((m) => [m.unitKind, m.turnout.expected]).sort()).toEqual([['community', 45], ['station', 12], ['village', 72]]);
    const campaign = await call<{ units: { members: { isSecretary: boolean }[] }[] }>(t, session, 'GET', `/api/campaigns/${campaignId}`);
    for (const u of campaign.units) expect(u.members.filter((x) => x.isSecretary)).toHaveLength(1);
  });

  it('answers /healthz and serves the OpenAPI document', async () => {
    const h = await t.app.inject({ method: 'GET', url: '/healthz' });
    expect(h.json()).toEqual({ ok: true, version: 'test', database: t.backend });
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/voter/redeem', '/api/voter/meeting', '/api/voter/cast', '/api/meetings/{id}/open-voting']));
    const unknown = await t.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(unknown.json()).toEqual({ error: { code: 'NOT_FOUND', message: '未找到该记录' } });
  });
  it('imports a team from a spreadsheet and marks the secretary', async () => {
    const session = await loginAs(t);
    const c = await call<{ id: number }>(t, session, 'POST', '/api/campaigns', { year: 2020, township: '插旗镇' });
    const u = await call<{ id: number }>(t, session, 'POST', `/api/campaigns/${c.id}/units`, { name: '红旗村', kind: 'village' });
    const csv = '\ufeff姓名,职务,是否书记\n王建国,党支部书记、村委会主任,是\n李秀英,村委会副主任,否\n';
    const res = await call<{ committed: boolean; errors: unknown[] }>(t, session, 'POST', `/api/units/${u.id}/team/import`, {
      filename: '班子成员.csv', dataBase64: Buffer.from(csv).toString('base64'), commit: true,
    });
    expect(res).toMatchObject({ committed: true, errors: [] });
    const unit = await call<{ members: { name: string; isSecretary: boolean }[] }>(t, session, 'GET', `/api/units/${u.id}`);
    expect(unit.members).toEqual([
      expect.objectContaining({ name: '王建国', isSecretary: true }),
      expect.objectContaining({ name: '李秀英', isSecretary: false }),
    ]);
    const template = await t.app.inject({ method: 'GET', url: '/api/team-template.xlsx', headers: session.headers });
    expect(template.statusCode).toBe(200);
    expect(template.rawPayload.subarray(0, 2).toString()).toBe('PK');
  });
});
