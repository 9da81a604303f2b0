/**
 * The 考察 workspace through the API: the talk draw and its rules (who is in the pool, the minimums,
 * re-draws audited and refused once talks have started, extensions that keep who was drawn), the
 * server's draw against `npx ceping draw` on the file the talk list offers, the records, inquiries,
 * 鉴定表 and report texts, and who may see them.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { call, makeMeeting as makeAnyMeeting, type MeetingOptions, type TestMeeting } from '../helpers/meeting.ts';
import { loginAs } from '../helpers/auth.ts';
import { runCli } from '../../server/cli/ceping.commands.ts';
import type { Workspace } from '../../server/inspection/inspection.schemas.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/**
 * Meetings smaller than the quorum open with a written reason, as the team would. The draw reads who signed
 * in; no phone here casts, so none redeems its ticket (a redemption is most of a sign-in's cost).
 */
const makeMeeting = (t: TestApp, o: MeetingOptions) => makeAnyMeeting(t, { overrideReason: '人数不足，考察组同意继续', redeem: false, ...o });

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(args, { env: {}, out: (s) => (out += s), err: (s) => (err += s), now: () => new Date('2020-11-25T10:00:00Z') });
  return { code, out, err };
}

/** The names `ceping draw` prints, in order ("   1. 张三"). */
function printedNames(out: string): string[] {
  return out
    .split('\n')
    .map((l) => /^\s*\d+\. (.+)$/.exec(l)?.[1])
    .filter((x): x is string => x !== undefined);
}

describe('the talk draw', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const ws = (m: TestMeeting) => call<Workspace>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/inspection`);
  const draw = (m: TestMeeting, body: object) =>
    t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/inspection/draw`, headers: m.session.headers, payload: body });

  it('waits until voting has opened, and needs a seed', async () => {
    const m = await makeMeeting(t, { roster: 40, signIn: 36, open: false });
    const early = await draw(m, { seed: '12345678' });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.message).toContain('开始测评后');
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/open-voting`, { overrideReason: '社区规定人数另议，考察组同意' });
    const noSeed = await draw(m, { seed: '  ' });
    expect(noSeed.statusCode).toBe(400);
    expect(noSeed.json().error.code).toBe('DRAW_SEED');
    expect(noSeed.json().error.message).toContain('纸币');
  });

  it('lists every team member and draws the rest of 30 from the signed-in roster only', async () => {
    // 72 on the roster, 60 signed in; 4 team members (not on this roster).
    const m = await makeMeeting(t, { roster: 72, signIn: 60, members: 4 });
    const r = await draw(m, { seed: 'AB 1234 5678' });
    expect(r.statusCode, r.body).toBe(200);
    const w = r.json() as Workspace;
    const roster = await call<{ entries: { name: string; signedIn: boolean }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`);
    const signedIn = new Set(roster.entries.filter((e) => e.signedIn).map((e) => e.name));
    const team = w.talks.people.filter((p) => p.role === 'team');
    const drawn = w.talks.people.filter((p) => p.role === 'drawn');
    expect(team.map((p) => p.name)).toEqual(['成员1', '成员2', '成员3', '成员4']);
    expect(drawn).toHaveLength(26);
    expect(w.talks.people).toHaveLength(30);
    for (const p of drawn) expect(signedIn.has(p.name), p.name).toBe(true);
    expect(new Set(drawn.map((p) => p.name)).size).toBe(26);
    expect(drawn.map((p) => p.drawRank)).toEqual(Array.from({ length: 26 }, (_, i) => i + 1));
    expect(drawn.every((p) => p.detail === '党员')).toBe(true);
    expect(w.talks.draw).toMatchObject({ round: 1, kind: 'draw', seed: 'AB12345678', seedInput: 'AB 1234 5678', poolSize: 60, drawnCount: 26 });
    expect(w.talks.draw!.identity).toBe(`插旗镇/2020/红旗村/${m.meetingId}`);
    expect(w.talks.rule).toMatchObject({ total: 30, drawn: 26, shortfall: 0, everyone: false });
  });

  it('takes more than the minimum when asked, never fewer, and never more than the pool', async () => {
    const m = await makeMeeting(t, { roster: 50, signIn: 45, members: 5 });
    const fewer = await draw(m, { seed: '9988776655', count: 24 });
    expect(fewer.statusCode).toBe(400);
    expect(fewer.json().error.message).toContain('不能少于规定的 25 人');
    const tooMany = await draw(m, { seed: '9988776655', count: 46 });
    expect(tooMany.statusCode).toBe(400);
    const more = await draw(m, { seed: '9988776655', count: 31 });
    expect(more.statusCode, more.body).toBe(200);
    expect((more.json() as Workspace).talks.people.filter((p) => p.role === 'drawn')).toHaveLength(31);
  });

  it('says how short the list falls when too few signed in', async () => {
    const m = await makeMeeting(t, { kind: 'community', roster: 20, signIn: 20, members: 4, overrideReason: '小社区人数不足，考察组同意' });
    const w = (await draw(m, { seed: '20201125' })).json() as Workspace;
    expect(w.talks.rule).toMatchObject({ total: 30, drawn: 20, shortfall: 6 });
    expect(w.talks.people).toHaveLength(24);
  });

  it('at a station lists every staff member on the roster, with no seed and no draw', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 12, signIn: 11, members: 2, overrideReason: '一人出差，考察组同意' });
    const r = await draw(m, { seed: '' });
    expect(r.statusCode, r.body).toBe(200);
    const w = r.json() as Workspace;
    expect(w.talks.draw).toMatchObject({ kind: 'everyone', seed: '', drawnCount: 12, command: '' });
    expect(w.talks.people.filter((p) => p.role === 'drawn').map((p) => p.name).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `参会${i + 1}`).sort());
    expect(w.talks.rule).toMatchObject({ everyone: true, total: 14 });
  });

  it('leaves team members on the roster out of the pool (they are on the list already)', async () => {
    const m = await makeMeeting(t, { roster: 40, signIn: 40, members: 3 });
    // Two team members also signed in as attendees, under the same names.
    await t.app.services.roster.addMany(m.session.adminId, m.meetingId, [
      { name: '成员1', category: '两委成员', note: '', walkIn: true },
      { name: '成员2', category: '两委成员', note: '', walkIn: true },
    ]);
    const roster = await call<{ entries: { id: number; name: string }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`);
    for (const e of roster.entries.filter((x) => x.name.startsWith('成员'))) {
      await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/roster/${e.id}/sign-in`, { handout: 'paper' });
    }
    const w = (await draw(m, { seed: 'TEAM-OUT-1', count: 40 })).json() as Workspace;
    expect(w.talks.pool.size).toBe(40);
    expect(w.talks.people.filter((p) => p.name.startsWith('成员')).every((p) => p.role === 'team')).toBe(true);
  });

  it('draws again only with a reason, audited outside the meeting archive, and never once a drawn person was talked to', async () => {
    const m = await makeMeeting(t, { roster: 60, signIn: 60 });
    const first = (await draw(m, { seed: '11112222' })).json() as Workspace;
    const noReason = await draw(m, { seed: '33334444' });
    expect(noReason.statusCode).toBe(400);
    expect(noReason.json().error.code).toBe('DRAW_REASON');
    const again = await draw(m, { seed: '33334444', reason: '第一次种子读错了一位' });
    expect(again.statusCode, again.body).toBe(200);
    const second = again.json() as Workspace;
    expect(second.talks.history.map((h) => [h.round, h.kind, h.seed, h.reason])).toEqual([
      [1, 'draw', '11112222', null],
      [2, 'redraw', '33334444', '第一次种子读错了一位'],
    ]);
    const names = (w: Workspace) => w.talks.people.filter((p) => p.role === 'drawn').map((p) => p.name);
    expect(names(second)).not.toEqual(names(first));
    expect(second.talks.people.filter((p) => p.role === 'team')).toHaveLength(4);

    const audit = await t.db.selectFrom('audit_log').select(['meeting_id', 'event', 'detail_json']).where('event', 'like', 'inspection.%').orderBy('id').execute();
    expect(audit.map((a) => [a.meeting_id, a.event])).toEqual([[null, 'inspection.talks_drawn'], [null, 'inspection.talks_redrawn']]);
    expect(JSON.parse(audit[1]!.detail_json)).toMatchObject({ meetingId: m.meetingId, round: 2, seed: '33334444', reason: '第一次种子读错了一位' });
    // The draw history is append-only in the database itself (SQLite's triggers, PostgreSQL's, truncate included).
    await expect(sql`update inspection_draws set seed = 'X' where meeting_id = ${m.meetingId}`.execute(t.db)).rejects.toThrow(/append-only/);
    await expect(sql`delete from inspection_draws where meeting_id = ${m.meetingId}`.execute(t.db)).rejects.toThrow(/append-only/);
    if (t.backend === 'postgres') await expect(sql`truncate inspection_draws`.execute(t.db)).rejects.toThrow(/append-only/);
    expect((await sql`select seed from inspection_draws where meeting_id = ${m.meetingId} order by round`.execute(t.db)).rows).toEqual([{ seed: '11112222' }, { seed: '33334444' }]);

    const someone = second.talks.people.find((p) => p.role === 'drawn')!;
    await call(t, m.session, 'PATCH', `/api/meetings/${m.meetingId}/inspection/talks/${someone.id}`, { done: true, notes: '谈了村务公开' });
    const refused = await draw(m, { seed: '55556666', reason: '想再抽一次' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('TALKS_STARTED');
  });

  it('extends a draw with the same seed: everyone drawn stays, in place, and the next names follow', async () => {
    const m = await makeMeeting(t, { roster: 70, signIn: 70 });
    const before = (await draw(m, { seed: '76543210' })).json() as Workspace;
    const drawnBefore = before.talks.people.filter((p) => p.role === 'drawn');
    await call(t, m.session, 'PATCH', `/api/meetings/${m.meetingId}/inspection/talks/${drawnBefore[0]!.id}`, { done: true });
    const shrink = await t.app.inject({ method: 'POST', url: `/api/meetings/${m.meetingId}/inspection/draw/extend`, headers: m.session.headers, payload: { count: 20 } });
    expect(shrink.statusCode).toBe(400);
    const after = await call<Workspace>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/inspection/draw/extend`, { count: 31 });
    const drawnAfter = after.talks.people.filter((p) => p.role === 'drawn');
    expect(drawnAfter).toHaveLength(31);
    expect(drawnAfter.slice(0, 26).map((p) => [p.id, p.name, p.drawRank])).toEqual(drawnBefore.map((p) => [p.id, p.name, p.drawRank]));
    expect(drawnAfter[0]!.done).toBe(true);
    // Drawing 31 from scratch with the same seed gives the same 31 (what the CLI recomputes).
    const file = (await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/inspection/draw.txt`, headers: m.session.headers })).body;
    const p = path.join(t.dir, 'candidates.txt');
    writeFileSync(p, file);
    const r = await cli(['draw', p]);
    expect(r.code, r.err).toBe(0);
    expect(printedNames(r.out)).toEqual(drawnAfter.map((x) => x.name));
    expect(after.talks.draw).toMatchObject({ round: 2, kind: 'extend', drawnCount: 31 });
  });

  it('gives the same list on the server and from `npx ceping draw`, from the file or from a hand-typed list', async () => {
    const m = await makeMeeting(t, { roster: 80, signIn: 75, members: 5 });
    const w = (await draw(m, { seed: 'ＨＫ３７２８ １９４６' })).json() as Workspace;
    const drawn = w.talks.people.filter((p) => p.role === 'drawn').map((p) => p.name);
    expect(w.talks.draw!.seed).toBe('HK37281946');

    const res = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/inspection/draw.txt`, headers: m.session.headers });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(decodeURIComponent(String(res.headers['content-disposition']))).toContain('个别谈话候选名单-红旗村-第1次.txt');
    const file = path.join(t.dir, '候选名单.txt');
    writeFileSync(file, res.body);

    // The real command, as a township office would run it.
    const { stdout } = await promisify(execFile)(process.execPath, [path.join(repoRoot, 'bin/ceping.mjs'), 'draw', file], { cwd: repoRoot });
    expect(printedNames(stdout)).toEqual(drawn);
    expect(stdout).toContain(`名单校验码 pool check: ${w.talks.draw!.poolDigest}（与文件头一致`);

    // The sign-in sheet typed again by hand, in another order, with the parameters on the command line.
    const roster = await call<{ entries: { name: string; signedIn: boolean }[] }>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/roster`);
    const typed = roster.entries.filter((e) => e.signedIn).map((e) => e.name).reverse();
    const hand = path.join(t.dir, 'typed.txt');
    writeFileSync(hand, `${typed.join('\r\n')}\r\n`);
    const r = await cli(['draw', hand, '--seed', 'hk3728 1946', '--meeting', w.talks.draw!.identity, '--count', '25']);
    expect(r.code, r.err).toBe(0);
    expect(printedNames(r.out)).toEqual(drawn);

    // Another seed, or another meeting, gives another list.
    const other = await cli(['draw', file, '--seed', 'HK37281947']);
    expect(printedNames(other.out)).not.toEqual(drawn);
    const elsewhere = await cli(['draw', file, '--meeting', `插旗镇/2020/红旗村/${m.meetingId + 1}`]);
    expect(printedNames(elsewhere.out)).not.toEqual(drawn);

    // A file whose names were changed no longer matches its header's check value.
    writeFileSync(path.join(t.dir, 'changed.txt'), res.body.replace(drawn[0]!, '外人甲'));
    const changed = await cli(['draw', path.join(t.dir, 'changed.txt')]);
    expect(changed.code).toBe(1);
    expect(changed.out).toContain('不一致');
  });
});

describe('the rest of the workspace, and who may see it', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  it('keeps talks, records, inquiries, the 鉴定表 and the report texts', async () => {
    const m = await makeMeeting(t, { roster: 40, signIn: 40 });
    const base = `/api/meetings/${m.meetingId}/inspection`;
    let w = await call<Workspace>(t, m.session, 'POST', `${base}/draw`, { seed: '31415926' });
    const target = w.talks.people.find((p) => p.role === 'drawn')!;
    const talk = await call<{ done: boolean; notes: string }>(t, m.session, 'PATCH', `${base}/talks/${target.id}`, { done: true, notes: '反映道路硬化进度慢' });
    expect(talk).toMatchObject({ done: true, notes: '反映道路硬化进度慢' });
    const empty = await t.app.inject({ method: 'PATCH', url: `${base}/talks/${target.id}`, headers: m.session.headers, payload: {} });
    expect(empty.statusCode).toBe(400);

    w = await call<Workspace>(t, m.session, 'POST', `${base}/talks`, { name: '王主动', detail: '群众（主动要求谈话）' });
    const added = w.talks.people.find((p) => p.role === 'added')!;
    expect(added).toMatchObject({ name: '王主动', detail: '群众（主动要求谈话）', done: false });
    const delTeam = await t.app.inject({ method: 'DELETE', url: `${base}/talks/${w.talks.people[0]!.id}`, headers: m.session.headers });
    expect(delTeam.statusCode).toBe(409);
    expect((await t.app.inject({ method: 'DELETE', url: `${base}/talks/${added.id}`, headers: m.session.headers })).statusCode).toBe(204);

    expect(w.records.map((r) => r.label)).toEqual(['会议记录', '学习记录', '坐班值班记录']);
    w = await call<Workspace>(t, m.session, 'PUT', `${base}/records`, {
      records: [{ label: '会议记录', checked: true, findings: '三会一课记录齐全' }, { label: '学习记录', checked: false, findings: '' }],
    });
    expect(w.records.map((r) => [r.label, r.checked, r.findings])).toEqual([
      ['会议记录', true, '三会一课记录齐全'], ['学习记录', false, ''], ['坐班值班记录', false, ''],
    ]);

    w = await call<Workspace>(t, m.session, 'POST', `${base}/inquiries`, { title: '关于低保评定的反映', body: '走访三户，情况属实' });
    const inquiry = w.inquiries[0]!;
    w = await call<Workspace>(t, m.session, 'PUT', `${base}/inquiries/${inquiry.id}`, { title: '关于低保评定的反映', body: '走访五户' });
    expect(w.inquiries.map((i) => [i.title, i.body])).toEqual([['关于低保评定的反映', '走访五户']]);

    const badField = await t.app.inject({ method: 'PUT', url: `${base}/appraisal`, headers: m.session.headers, payload: { values: { 不存在的项: 'x' }, grade: '', comment: '' } });
    expect(badField.statusCode).toBe(400);
    const badGrade = await t.app.inject({ method: 'PUT', url: `${base}/appraisal`, headers: m.session.headers, payload: { values: {}, grade: '优秀', comment: '' } });
    expect(badGrade.statusCode).toBe(400);
    w = await call<Workspace>(t, m.session, 'PUT', `${base}/appraisal`, { values: { 把握政治方向: '坚持理论学习', 组织纪律: '执行决议有力' }, grade: '较好', comment: '班子团结' });
    expect(w.appraisal).toMatchObject({ values: { 把握政治方向: '坚持理论学习', 组织纪律: '执行决议有力' }, grade: '较好', comment: '班子团结' });
    expect(w.appraisal.template.sections.map((s) => s.fields.length)).toEqual([5, 5]);

    w = await call<Workspace>(t, m.session, 'PUT', `${base}/report`, { section1Note: '', section3: '完成道路硬化3公里', section4: '学习不够深入', section5: '建议加强学习', meetingNotes: '碰头会：一致认为较好' });
    expect(w.report).toMatchObject({ section3: '完成道路硬化3公里', meetingNotes: '碰头会：一致认为较好' });
  });

  it('lets the township change the records checklist and the 鉴定表 fields per campaign', async () => {
    const m = await makeMeeting(t, { roster: 40, signIn: 40 });
    const url = `/api/campaigns/${m.campaignId}/inspection/settings`;
    const s = await call<{ records: string[]; appraisal: { title: string; sections: { title: string; fields: string[] }[]; grades: string[] } }>(t, m.session, 'GET', url);
    expect(s.records).toEqual(['会议记录', '学习记录', '坐班值班记录']);
    expect(s.appraisal.sections[0]!.fields).toEqual(['把握政治方向', '夯实政治根基', '严肃政治生活', '提高政治能力', '严格政治自律']);
    expect(s.appraisal.sections[1]!.fields).toEqual(['组织纪律', '工作态度', '财务制度', '工作业绩', '廉洁自律']);
    const dup = await t.app.inject({ method: 'PUT', url, headers: m.session.headers, payload: { ...s, records: ['会议记录', '会议记录'] } });
    expect(dup.statusCode).toBe(400);
    const changed = await call<typeof s>(t, m.session, 'PUT', url, { ...s, records: [...s.records, '财务账目'], appraisal: { ...s.appraisal, grades: ['优秀', '良好', '一般', '较差'] } });
    expect(changed.records).toEqual(['会议记录', '学习记录', '坐班值班记录', '财务账目']);
    const w = await call<Workspace>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/inspection`);
    expect(w.records.map((r) => r.label)).toContain('财务账目');
    expect(w.appraisal.template.grades).toEqual(['优秀', '良好', '一般', '较差']);

    const inspector = await loginAs(t, { role: 'inspector' });
    expect((await t.app.inject({ method: 'PUT', url, headers: inspector.headers, payload: s })).statusCode).toBe(403);
  });

  it('is for the township and the meeting’s own team only', async () => {
    const m = await makeMeeting(t, { roster: 40, signIn: 40 });
    const url = `/api/meetings/${m.meetingId}/inspection`;
    expect((await t.app.inject({ method: 'GET', url })).statusCode).toBe(401);
    const stranger = await loginAs(t, { role: 'inspector' });
    expect((await t.app.inject({ method: 'GET', url, headers: stranger.headers })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: `${url}/report.docx`, headers: stranger.headers })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: `/api/campaigns/${m.campaignId}/inspection/progress`, headers: stranger.headers })).statusCode).toBe(403);
    const team = await loginAs(t, { role: 'inspector', username: 'team1' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: team.adminId });
    expect((await t.app.inject({ method: 'GET', url, headers: team.headers })).statusCode).toBe(200);
    // No route writes without the CSRF header.
    const noCsrf = await t.app.inject({ method: 'POST', url: `${url}/draw`, headers: { cookie: team.cookie }, payload: { seed: '12345678' } });
    expect(noCsrf.statusCode).toBe(403);
  });
});

describe('the draw over random rosters, on the server and offline', () => {
  it('agrees with `ceping draw` and meets the minimum for every unit kind', { timeout: 120_000 }, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          kind: fc.constantFrom('village' as const, 'community' as const, 'station' as const),
          roster: fc.integer({ min: 3, max: 90 }),
          absent: fc.integer({ min: 0, max: 20 }),
          members: fc.integer({ min: 1, max: 7 }),
          seed: fc.stringMatching(/^[0-9A-Z]{6,14}$/),
        }),
        async ({ kind, roster, absent, members, seed }) => {
          const t = await makeTestApp();
          try {
            const signIn = Math.max(1, roster - absent);
            const m = await makeMeeting(t, { kind, roster, signIn, members });
            const w = await call<Workspace>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/inspection/draw`, { seed });
            const team = w.talks.people.filter((p) => p.role === 'team');
            const drawn = w.talks.people.filter((p) => p.role === 'drawn').map((p) => p.name);
            expect(team).toHaveLength(members);
            // makeMeeting's roster: 参会1..N, the first `signIn` signed in; no team member is on it.
            const pool = kind === 'station' ? roster : signIn;
            if (kind === 'station') expect(drawn).toHaveLength(roster);
            else expect(drawn).toHaveLength(Math.min(Math.max(0, 30 - members), pool));
            expect(w.talks.people.length).toBeGreaterThanOrEqual(Math.min(30, members + pool));
            if (kind !== 'station') {
              const signedIn = new Set(Array.from({ length: signIn }, (_, i) => `参会${i + 1}`));
              for (const n of drawn) expect(signedIn.has(n), n).toBe(true);
              const res = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/inspection/draw.txt`, headers: m.session.headers });
              const file = path.join(t.dir, 'c.txt');
              writeFileSync(file, res.body);
              const r = await cli(['draw', file]);
              expect(r.code, r.err).toBe(0);
              expect(printedNames(r.out)).toEqual(drawn);
            }
          } finally {
            await t.close();
          }
        },
      ),
      { numRuns: 6 },
    );
  });
});
