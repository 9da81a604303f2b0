import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/db/database.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';
import type { Form } from '../../server/forms/form.schemas.ts';
import { canonicalJson } from '../../server/archive/canonical.ts';
import { archiveFileText, sealValue } from '../../server/archive/archive.build.ts';
import { verifyArchiveText, verifyMeetingArchive, type MeetingVerification, type Verification } from '../../server/archive/archive.verify.ts';
import { publicKeyInfo, SIGNING_KEY_FILE } from '../../server/archive/signing.ts';
import { BackupError, databaseCounts, restoreDataDir, writePidFile } from '../../server/archive/backup.ts';
import { runCli } from '../../server/cli/ceping.commands.ts';
import { makeTestApp, type TestApp } from '../helpers/harness.ts';
import { testBackend } from '../helpers/pg.ts';
import { call, makeMeeting, type TestMeeting } from '../helpers/meeting.ts';
import { loginAs, type AdminSession } from '../helpers/auth.ts';
import { cast as castBallot, redeem, type PhoneToken } from '../helpers/phone.ts';
import { decodeSlot } from '../../server/ballots/slots.ts';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// ---- ballots ----

/** A valid package that differs for every i (digits of i spread over the subjects), never touching a quota-limited grade. */
function distinctPackage(form: Form, i: number): Record<string, unknown> {
  const pkg: Record<string, unknown> = {};
  for (const p of form.parts) {
    if (p.kind === 'rating') {
      const limited = new Set(p.quotas.map((q) => q.grade));
      const allowed = p.grades.filter((g) => !limited.has(g.key));
      let rest = i;
      pkg[p.key] = {
        grades: Object.fromEntries(p.subjects.map((s) => {
          const g = allowed[rest % allowed.length]!;
          rest = Math.floor(rest / allowed.length);
          return [s.key, g.key];
        })),
      };
    }
    if (p.kind === 'recommend') pkg[p.key] = { picks: p.candidates.length ? [p.candidates[i % p.candidates.length]!.key] : [], writeIns: [] };
    if (p.kind === 'comment') pkg[p.key] = { text: i % 5 === 0 ? `建议加强村务公开 ${i}` : '' };
  }
  return pkg;
}

async function cast(t: TestApp, token: PhoneToken, pkg: unknown): Promise<string> {
  const res = await castBallot(t, token, pkg as BallotPackage);
  if (res.statusCode !== 200) throw new Error(`cast → ${res.statusCode} ${res.body}`);
  return (res.json() as { receipt: string }).receipt;
}

async function closeAndSeal(t: TestApp, session: AdminSession, meetingId: number): Promise<void> {
  await call(t, session, 'POST', `/api/meetings/${meetingId}/close-voting`);
  await call(t, session, 'POST', `/api/meetings/${meetingId}/seal`);
}

async function fetchArchive(t: TestApp, session: AdminSession, meetingId: number): Promise<string> {
  const res = await t.app.inject({ method: 'GET', url: `/api/meetings/${meetingId}/archive`, headers: session.headers });
  expect(res.statusCode).toBe(200);
  return res.body;
}

/** A second sealed station meeting in an existing campaign (makeMeeting always makes a new campaign). */
async function sealedMeetingInCampaign(t: TestApp, session: AdminSession, campaignId: number, name: string, size: number): Promise<number> {
  const unit = await call<{ id: number }>(t, session, 'POST', `/api/campaigns/${campaignId}/units`, { name, kind: 'station', reserveCandidates: ['候选甲'] });
  await call(t, session, 'PUT', `/api/units/${unit.id}/team`, { members: [{ name: '站长', position: '站长', isSecretary: true }, { name: '副站长', position: '副站长', isSecretary: false }] });
  const meeting = await call<{ id: number }>(t, session, 'POST', `/api/units/${unit.id}/meetings`, {});
  await t.app.services.roster.addMany(session.adminId, meeting.id, Array.from({ length: size }, (_, i) => ({ name: `职工${i}`, category: '职工', note: '', walkIn: false })));
  await call(t, session, 'POST', `/api/meetings/${meeting.id}/start-signin`);
  const roster = await call<{ entries: { id: number }[] }>(t, session, 'GET', `/api/meetings/${meeting.id}/roster`);
  const tokens: PhoneToken[] = [];
  for (const e of roster.entries) {
    const r = await call<{ ticket: { secret: string } }>(t, session, 'POST', `/api/meetings/${meeting.id}/roster/${e.id}/sign-in`, { handout: 'qr' });
    tokens.push(await redeem(t, r.ticket.secret));
  }
  await call(t, session, 'POST', `/api/meetings/${meeting.id}/open-voting`, {});
  const { form } = await call<{ form: Form }>(t, session, 'GET', `/api/meetings/${meeting.id}/form`);
  for (const [i, token] of tokens.entries()) await cast(t, token, distinctPackage(form, i + 7));
  await closeAndSeal(t, session, meeting.id);
  return meeting.id;
}

function runVerifyCli(file: string, ...extra: string[]) {
  return spawnSync(process.execPath, ['bin/ceping.mjs', 'verify', file, ...extra], { cwd: repoRoot, encoding: 'utf8', timeout: 30_000 });
}

function failedIds(v: Verification): string[] {
  return v.checks.filter((c) => !c.ok && !c.warning).map((c) => c.id);
}

/** Change a parsed archive, optionally re-sign it with a key (the server's own, to show the content checks stand without the hash). */
function tampered(text: string, change: (record: any) => void, key?: KeyObject): string {
  const file = JSON.parse(text) as { record: any; sha256: string; signature: string };
  change(file.record);
  if (key) {
    const { sha256, signature } = sealValue(file.record, key);
    return archiveFileText({ record: file.record, sha256, signature });
  }
  return archiveFileText(file);
}

// ---- one sealed meeting, shared by the read-only checks below ----

describe('the sealed archive of a meeting', () => {
  let t: TestApp;
  let m: TestMeeting;
  let text: string;
  let receipts: string[];
  let work: string;

  beforeAll(async () => {
    // The random source is pinned, so the archive's shuffle is the same on every run.
    t = await makeTestApp({ seed: 1 });
    work = mkdtempSync(path.join(tmpdir(), 'ceping-archive-files-'));
    // A station of 24: 23 phones, and one paper form whose part B is void (over its quota).
    m = await makeMeeting(t, { kind: 'station', roster: 24, signIn: 23, paperSignIns: 1, members: 4, candidates: 3 });
    receipts = [];
    for (const [i, token] of m.tokens.entries()) receipts.push(await cast(t, token, distinctPackage(m.form!, i)));
    const checker = await loginAs(t, { role: 'inspector', username: 'jianpiao' });
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/assignments`, { adminId: checker.adminId });
    const overQuota = { ...distinctPackage(m.form!, 99), B: { grades: Object.fromEntries((m.form!.parts.find((p) => p.key === 'B') as { subjects: { key: string }[] }).subjects.map((s) => [s.key, 'excellent'])) } };
    const { pendingId } = await call<{ pendingId: string }>(t, m.session, 'POST', `/api/meetings/${m.meetingId}/paper-ballots`, { package: overQuota });
    await call(t, checker, 'POST', `/api/meetings/${m.meetingId}/paper-ballots/${pendingId}/confirm`, {});
    await closeAndSeal(t, m.session, m.meetingId);
    text = await fetchArchive(t, m.session, m.meetingId);
  });

  afterAll(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  it('verifies: signature, hash, recount, turnout; also through `node bin/ceping.mjs verify`', async () => {
    const v = verifyArchiveText(text) as MeetingVerification;
    expect(failedIds(v)).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => c.id)).toEqual(['bytes', 'hash', 'signature', 'ballots', 'recount', 'figures', 'returned', 'turnout', 'roster']);
    expect(v.summary).toMatchObject({ township: '插旗镇', year: 2020, unitName: '红旗村', unitKind: 'station', ballots: 24 });
    expect(v.summary!.turnout).toEqual({ expected: 24, present: 24, issued: 24, returned: 24, paper: 1, paperIssued: 1, reissued: 0 });

    const key = (await t.app.inject({ method: 'GET', url: '/api/archive/public-key' })).json() as { publicKeyPem: string; fingerprint: string };
    expect(key.fingerprint).toMatch(/^[0-9A-F]{4}( [0-9A-F]{4}){3}$/);
    expect(key).toEqual(publicKeyInfo(t.signingKey));
    expect(v.fingerprint).toBe(key.fingerprint);

    const file = path.join(work, 'meeting.json');
    writeFileSync(file, text);
    const run = runVerifyCli(file, '--fingerprint', key.fingerprint.replace(/ /g, '').toLowerCase());
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('全部通过 / ALL CHECKS PASSED');
    expect(run.stdout).toContain('收回票数 24 = 选票张数 24');
    expect(run.stdout).toContain('存档中的每个百分比都等于票数 ÷ 有效票（四舍五入保留一位小数）');

    // Without --fingerprint nothing says the file came from this server: not a pass.
    const bare = runVerifyCli(file);
    expect(bare.status).toBe(3);
    expect(bare.stdout.trimEnd()).toMatch(/未核对公钥指纹$/);
    expect(bare.stdout).not.toContain('ALL CHECKS PASSED');
    expect(bare.stdout).toContain(`本文件的签名公钥指纹是 ${key.fingerprint}`);
    // Skipping it must be said explicitly, and the result says so.
    const skipped = runVerifyCli(file, '--no-fingerprint');
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toContain('全部通过，按要求未核对公钥指纹');
    // Another key's fingerprint fails; both options at once is a usage error.
    expect(runVerifyCli(file, '--fingerprint', '0000 0000 0000 0000').status).toBe(1);
    expect(runVerifyCli(file, '--fingerprint', key.fingerprint, '--no-fingerprint').status).toBe(2);
  });

  it('checks the displayed figures against the counts: an edited percentage, rate or rank fails even when re-signed', () => {
    const share = (r: any) => {
      const row = r.results.parts.find((p: any) => p.key === 'B').rows[1];
      const s = row.shares[1];
      s.tenths += 1;
      s.text = `${(s.tenths / 10).toFixed(1)}%`;
    };
    const shareOnly = verifyArchiveText(tampered(text, share, t.signingKey));
    expect(failedIds(shareOnly)).toEqual(expect.arrayContaining(['figures']));
    expect(shareOnly.checks.find((c) => c.id === 'figures')!.zh).toMatch(/存档中的数字与票数不符：.*称职：显示 \d+\.\d%，\d+\/\d+ 应为 \d+\.\d%/);
    const rank = (r: any) => {
      r.results.parts.find((p: any) => p.key === 'D').ranking[0].rankText = '第9';
    };
    expect(verifyArchiveText(tampered(text, rank, t.signingKey)).checks.find((c) => c.id === 'figures')!.ok).toBe(false);
  });

  it('still verifies a version 1 file (percentages apportioned to 100.0%, no ranks) on its counts, and says how it was rounded', () => {
    const v1 = (r: any) => {
      r.version = 1;
      for (const p of r.results.parts) {
        if (p.kind === 'recommend') for (const c of p.ranking) { delete c.rank; delete c.tied; delete c.rankText; }
        if (p.kind === 'rating') for (const row of p.rows) { row.shares[0].tenths += 1; row.shares[0].text = 'x'; }
      }
    };
    const old = verifyArchiveText(tampered(text, v1, t.signingKey));
    expect(failedIds(old)).toEqual([]);
    expect(old.ok).toBe(true);
    const note = old.checks.find((c) => c.id === 'figures')!;
    expect(note.warning).toBe(true);
    expect(note.zh).toContain('第1版档案');
    // ... and its counts are still recounted.
    const changed = verifyArchiveText(tampered(text, (r: any) => { v1(r); r.results.parts.find((p: any) => p.key === 'B').rows[1].counts[1] += 1; }, t.signingKey));
    expect(failedIds(changed)).toContain('recount');
  });

  it('holds the form, the figures of the results page, the roster counts and the audit log up to the seal', async () => {
    const { record } = JSON.parse(text) as { record: any };
    const results = await call<unknown>(t, m.session, 'GET', `/api/meetings/${m.meetingId}/results`);
    expect(canonicalJson(record.results)).toBe(canonicalJson(results));
    expect(record.form).toEqual(m.form);
    expect(record.roster).toEqual({ expected: 24, present: 24, categories: [{ category: '党员', expected: 24, present: 24 }] });
    expect(record.meeting.sealedAt).toEqual(expect.any(String));
    const events = record.audit.map((e: { event: string }) => e.event);
    expect(events[0]).toBe('meeting.created');
    expect(events.at(-1)).toBe('meeting.sealed');
    expect(events.filter((e: string) => e === 'roster.signed_in')).toHaveLength(24);
    expect(record.audit.find((e: { event: string }) => e.event === 'ballot.paper_confirmed').actor).toContain('jianpiao');
    // No pointer into the sign-in sheet: not a name, not a roster entry id.
    for (const e of record.audit) expect(e.detail).not.toHaveProperty('entryId');
    expect(text).not.toContain('参会');
  });

  it('lists the ballots as a shuffled permutation of the stored ones, with no id, hash or receipt from the database', async () => {
    const { record } = JSON.parse(text) as { record: { ballots: unknown[] } };
    const stored = (await t.db.selectFrom('ballots').select(['id', 'body']).where('meeting_id', '=', m.meetingId).where('filled', '=', 1).orderBy('id').execute())
      .map((b) => ({ id: String(b.id), package_json: decodeSlot(Buffer.from(b.body as Uint8Array)) }));
    const storedOrder = stored.map((b) => canonicalJson(JSON.parse(b.package_json)));
    const archivedOrder = record.ballots.map((b) => canonicalJson(b));
    expect(new Set(storedOrder).size).toBe(24); // every ballot distinct, so the order is observable
    expect([...archivedOrder].sort()).toEqual([...storedOrder].sort());
    // Deterministic: the app's random source is pinned for this test.
    expect(archivedOrder).not.toEqual(storedOrder);
    expect(record.ballots.every((b) => Object.keys(b as object).every((k) => /^[A-E]$/.test(k)))).toBe(true);

    const secrets = [
      ...stored.map((b) => b.id),
      ...(await t.db.selectFrom('tickets').select(['id', 'secret_hash', 'code_hash']).execute()).flatMap((r) => Object.values(r).map(String)),
      ...(await t.db.selectFrom('receipts').select('receipt_hash').execute()).map((r) => r.receipt_hash),
      ...(await t.db.selectFrom('sessions').select(['id_hash', 'csrf_token']).execute()).flatMap((r) => Object.values(r)),
      ...(await t.db.selectFrom('admins').select('password_hash').execute()).map((r) => r.password_hash),
      ...m.tickets, ...m.shortCodes, ...receipts, ...m.tokens.flatMap((k) => [k.input, k.output]),
    ].filter((s): s is string => typeof s === 'string' && s.length >= 8);
    expect(secrets.length).toBeGreaterThan(24 * 3);
    for (const s of secrets) expect(text.includes(s), s).toBe(false);
  });

  it('is write-once, refused before sealing, and shown only to the township and the assigned team', async () => {
    // Refused by the database itself (a trigger on either backend), whatever program writes.
    await expect(sql`update archives set sha256 = ${'0'.repeat(64)}`.execute(t.db)).rejects.toThrow(/write-once/);
    await expect(sql`delete from archives`.execute(t.db)).rejects.toThrow(/write-once/);
    const outsider = await loginAs(t, { role: 'inspector' });
    const denied = await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/archive`, headers: outsider.headers });
    expect(denied.statusCode).toBe(403);
    const checker = await loginAs(t, { role: 'inspector', username: 'jianpiao' });
    expect((await t.app.inject({ method: 'GET', url: `/api/meetings/${m.meetingId}/archive`, headers: checker.headers })).body).toBe(text);
    const open = await makeMeeting(t, { kind: 'station', roster: 2 });
    const early = await t.app.inject({ method: 'GET', url: `/api/meetings/${open.meetingId}/archive`, headers: m.session.headers });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.code).toBe('ARCHIVE_NOT_READY');
  });

  it('fails when one grade of one ballot changes, signed again or not', async () => {
    const change = (r: any) => {
      const grades = r.ballots[5].A.grades as Record<string, string>;
      const k = Object.keys(grades)[0]!;
      grades[k] = grades[k] === 'good' ? 'fair' : 'good';
    };
    const unsigned = verifyArchiveText(tampered(text, change));
    expect(failedIds(unsigned)).toEqual(expect.arrayContaining(['hash', 'signature', 'recount']));
    // Even re-signed with the server's own key, the recount does not match the stored counts.
    const resigned = verifyArchiveText(tampered(text, change, t.signingKey));
    expect(failedIds(resigned)).toEqual(['recount']);
    expect(resigned.checks.find((c) => c.id === 'recount')!.zh).toContain('党组织政治建设民主测评表');

    const file = path.join(work, 'grade.json');
    writeFileSync(file, tampered(text, change));
    const run = runVerifyCli(file);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('✗ 失败 FAIL');
    expect(run.stdout).toContain('VERIFICATION FAILED');
  });

  it('fails when one count changes', () => {
    const change = (r: any) => {
      const row = r.results.parts.find((p: any) => p.key === 'B').rows[1];
      row.counts[1] += 1;
    };
    expect(failedIds(verifyArchiveText(tampered(text, change)))).toEqual(expect.arrayContaining(['hash', 'signature', 'recount']));
    const resigned = verifyArchiveText(tampered(text, change, t.signingKey));
    // The count no longer matches the recount, and the row's printed figures no longer match its counts.
    expect(failedIds(resigned)).toEqual(['recount', 'figures']);
    expect(resigned.checks.find((c) => c.id === 'recount')!.zh).toMatch(/称职/);

    const returned = verifyArchiveText(tampered(text, (r) => { r.turnout.returned -= 1; }, t.signingKey));
    expect(failedIds(returned)).toEqual(expect.arrayContaining(['recount', 'returned']));
    const issued = verifyArchiveText(tampered(text, (r) => { r.turnout.issued = 30; r.results.turnout.issued = 30; }, t.signingKey));
    expect(failedIds(issued)).toContain('turnout');
  });

  it('fails when the order of the form changes: parts, or subjects within a part', () => {
    const swapParts = (r: any) => { [r.form.parts[0], r.form.parts[1]] = [r.form.parts[1], r.form.parts[0]]; };
    const swapSubjects = (r: any) => {
      const b = r.form.parts.find((p: any) => p.key === 'B');
      [b.subjects[1], b.subjects[2]] = [b.subjects[2], b.subjects[1]];
    };
    for (const change of [swapParts, swapSubjects]) {
      expect(failedIds(verifyArchiveText(tampered(text, change)))).toEqual(expect.arrayContaining(['hash', 'signature']));
      expect(failedIds(verifyArchiveText(tampered(text, change, t.signingKey)))).toEqual(['recount']);
    }
  });

  it('fails when the signature is replaced, and a file re-signed by another key fails against the printed fingerprint', () => {
    const file = JSON.parse(text) as { record: any; sha256: string; signature: string };
    const other = generateKeyPairSync('ed25519').privateKey;
    const foreign = sealValue(file.record, other).signature;
    expect(failedIds(verifyArchiveText(archiveFileText({ ...file, signature: foreign })))).toEqual(['signature']);
    const flipped = Buffer.from(file.signature, 'base64');
    flipped[10]! ^= 1;
    expect(failedIds(verifyArchiveText(archiveFileText({ ...file, signature: flipped.toString('base64') })))).toEqual(['signature']);
    // Base64 has spare bits in its last symbol; a second spelling of the same bytes is refused too.
    const last = file.signature.at(-3)!;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const twin = `${file.signature.slice(0, -3)}${alphabet[alphabet.indexOf(last) ^ 1]}==`;
    expect(Buffer.from(twin, 'base64').equals(Buffer.from(file.signature, 'base64'))).toBe(true);
    expect(failedIds(verifyArchiveText(archiveFileText({ ...file, signature: twin })))).toEqual(['signature']);

    // Someone who re-signs the whole record with a key of their own gets a self-consistent file;
    // only the fingerprint printed on the reports tells it apart, so verify takes it as an option.
    const forged = tampered(text, (r) => { r.signer = publicKeyInfo(other); }, other);
    expect(verifyArchiveText(forged).ok).toBe(true);
    const pinned = verifyArchiveText(forged, { expectedFingerprint: publicKeyInfo(t.signingKey).fingerprint });
    expect(failedIds(pinned)).toEqual(['key']);
  });

  it('fails when any one byte of the file changes', () => {
    const bytes = Buffer.from(text, 'utf8');
    expect(verifyArchiveText(bytes.toString('utf8')).ok).toBe(true);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), (pos, x) => {
        const changed = Buffer.from(bytes);
        changed[pos]! ^= x;
        return !verifyArchiveText(changed.toString('utf8')).ok;
      }),
      { seed: 20261128, numRuns: 300 },
    );
    // Also the places a JSON parser would forgive: the hex case of the hash, spacing, key order.
    const file = JSON.parse(text) as { record: any; sha256: string; signature: string };
    expect(verifyArchiveText(archiveFileText({ ...file, sha256: file.sha256.toUpperCase() })).ok).toBe(false);
    expect(verifyArchiveText(JSON.stringify(file, null, 2)).ok).toBe(false);
    expect(failedIds(verifyArchiveText(JSON.stringify({ signature: file.signature, sha256: file.sha256, record: file.record })))).toEqual(['bytes']);
    // The value alone (as the import route sees it) still verifies: byte form is a file-level rule.
    expect(verifyMeetingArchive(JSON.parse(JSON.stringify(file, null, 2))).ok).toBe(true);
  });
});

// ---- voters' receipts ----

describe('the receipt check', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await makeTestApp();
  });
  afterEach(async () => {
    await t.close();
  });

  const check = (receipt: string) => t.app.inject({ method: 'POST', url: '/api/receipts/check', payload: { receipt } });

  it('answers only after the seal: 已计入 for a real receipt, 未找到 for any other, and never a choice', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 6 });
    const receipts: string[] = [];
    for (const [i, token] of m.tokens.entries()) receipts.push(await cast(t, token, distinctPackage(m.form!, i)));

    const before = await check(receipts[0]!);
    expect(before.statusCode).toBe(200);
    expect(before.json()).toEqual({ found: false, status: 'not_sealed', message: '会议结果封存后才能查询' });

    await closeAndSeal(t, m.session, m.meetingId);
    for (const r of receipts) {
      const typed = r.toLowerCase().replace('-', ' ');
      const res = await check(typed);
      expect(res.json()).toEqual({ found: true, status: 'included', message: '已计入', unitName: '红旗村' });
      expect(res.headers['cache-control']).toBe('no-store');
      const body = res.body;
      for (const p of m.form!.parts) {
        if (p.kind === 'rating') for (const g of p.grades) expect(body).not.toContain(g.label);
      }
      expect(body).not.toMatch(/grade|pick|ballot|part/i);
    }
    const other = receipts[0]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect((await check(other)).json()).toEqual({ found: false, status: 'not_found', message: '未找到' });
    expect((await check('not a receipt')).json()).toEqual({ found: false, status: 'not_found', message: '未找到' });
    expect((await check('')).json().status).toBe('not_found');
  });

  it('is rate-limited by one bucket for everyone', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 302; i++) codes.push((await check('ABCDE-FGHJK')).statusCode);
    expect(codes.slice(0, 300).every((c) => c === 200)).toBe(true);
    expect(codes.at(-1)).toBe(429);
  });
});

// ---- backup and restore ----

describe('backup and restore', () => {
  const onPostgres = testBackend === 'postgres';
  let t: TestApp;
  let work: string;
  beforeEach(async () => {
    t = await makeTestApp();
    work = mkdtempSync(path.join(tmpdir(), 'ceping-backup-test-'));
    // The harness keeps its keys in memory; put them where main.ts would, so the backup has them to copy.
    writeFileSync(path.join(t.dir, 'secret.key'), t.pepper.toString('base64'), { mode: 0o600 });
    writeFileSync(path.join(t.dir, SIGNING_KEY_FILE), t.signingKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  });
  afterEach(async () => {
    await t.close();
    rmSync(work, { recursive: true, force: true });
  });

  const io = (out: string[]) => ({ env: { DATA_DIR: '/nonexistent' }, out: (s: string) => void out.push(s), err: (s: string) => void out.push(s), now: () => new Date('2026-11-28T10:00:00Z') });

  // The SQLite file's own backup (on PostgreSQL: pg_dump, README "Running on PostgreSQL").
  it.skipIf(onPostgres)('copies a consistent snapshot while a write transaction is open, and restores it into a new data folder', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 8 });
    for (const [i, token] of m.tokens.entries()) await cast(t, token, distinctPackage(m.form!, i));
    await closeAndSeal(t, m.session, m.meetingId);
    const before = databaseCounts(t.file);
    expect(before).toMatchObject({ meetings: 1, sealed: 1, ballots: 8, archives: 1 });

    // Another connection is half-way through a write transaction while the backup runs.
    const writer = new Database(t.file);
    writer.exec('BEGIN IMMEDIATE');
    const insert = writer.prepare(`insert into audit_log (at, actor_id, meeting_id, event, detail_json) values (?, null, null, 'test.write', '{}')`);
    for (let i = 0; i < 50; i++) insert.run(new Date().toISOString());
    const out: string[] = [];
    const backupDir = path.join(work, 'backup');
    const code = await runCli(['backup', '--data', t.dir, '--out', backupDir], io(out));
    writer.exec('COMMIT');
    writer.close();
    expect(code, out.join('')).toBe(0);
    expect(out.join('')).toContain('备份完成');
    expect(databaseCounts(t.file).auditEntries).toBe(before.auditEntries + 50);
    expect(readdirSync(backupDir).sort()).toEqual(['backup.json', 'ceping.db', 'secret.key', 'signing.key']);
    expect(databaseCounts(path.join(backupDir, 'ceping.db'))).toEqual(before);

    // Restore into a fresh folder; refuse while a server runs there, and over existing data without --force.
    const target = path.join(work, 'restored');
    const restoreOut: string[] = [];
    expect(await runCli(['restore', backupDir, '--data', target], io(restoreOut))).toBe(0);
    expect(databaseCounts(path.join(target, 'ceping.db'))).toEqual(before);
    expect(readFileSync(path.join(target, 'secret.key'), 'utf8')).toBe(t.pepper.toString('base64'));
    expect(readFileSync(path.join(target, SIGNING_KEY_FILE), 'utf8')).toBe(readFileSync(path.join(t.dir, SIGNING_KEY_FILE), 'utf8'));
    const again: string[] = [];
    expect(await runCli(['restore', backupDir, '--data', target], io(again))).toBe(1);
    expect(again.join('')).toContain('--force');
    writePidFile(target, process.pid);
    expect(() => restoreDataDir({ from: backupDir, dataDir: target, force: true, now: new Date() })).toThrow(BackupError);
    rmSync(path.join(target, 'ceping.pid'));
    const forced = restoreDataDir({ from: backupDir, dataDir: target, force: true, now: new Date('2026-11-28T11:00:00Z') });
    expect(forced.movedAsideTo).toMatch(/before-restore-20261128-110000$/);
    expect(existsSync(path.join(forced.movedAsideTo!, 'ceping.db'))).toBe(true);

    // The restored database opens, migrates, and its archive still verifies; the restored keys still find receipts.
    const { db, sqlite } = openDatabase(path.join(target, 'ceping.db'));
    await migrateToLatest(db);
    const row = sqlite.prepare('select record_json, sha256, signature from archives').get() as { record_json: string; sha256: string; signature: string };
    expect(verifyMeetingArchive({ record: JSON.parse(row.record_json), sha256: row.sha256, signature: row.signature }).ok).toBe(true);
    expect((sqlite.prepare('select count(*) as n from ballots').get() as { n: number }).n).toBe((t.sqlite.prepare('select count(*) as n from ballots').get() as { n: number }).n);
    await db.destroy();
  });

  /** Audit entries in the test's own store, SQLite file or PostgreSQL database. */
  const auditEntries = async () => Number((await t.db.selectFrom('audit_log').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);

  it('streams a database copy to a township admin over HTTP (a SQLite file, from PostgreSQL too), and to no one else', async () => {
    const m = await makeMeeting(t, { kind: 'station', roster: 4 });
    for (const [i, token] of m.tokens.entries()) await cast(t, token, distinctPackage(m.form!, i));
    // Not while the meeting is voting: two copies could be compared row by row.
    expect((await t.app.inject({ method: 'POST', url: '/api/admin/backup', headers: m.session.headers })).statusCode).toBe(409);
    await call(t, m.session, 'POST', `/api/meetings/${m.meetingId}/close-voting`);
    const inspector = await loginAs(t, { role: 'inspector' });
    expect((await t.app.inject({ method: 'POST', url: '/api/admin/backup', headers: inspector.headers })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: '/api/admin/backup' })).statusCode).toBe(401);

    const res = await t.app.inject({ method: 'POST', url: '/api/admin/backup', headers: m.session.headers });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.sqlite3');
    expect(String(res.headers['content-disposition'])).toMatch(/^attachment; filename="ceping-\d{8}-\d{6}\.db"/);
    const file = path.join(work, 'download.db');
    writeFileSync(file, res.rawPayload);
    const copy = databaseCounts(file);
    expect(copy).toMatchObject({ meetings: 1, ballots: 4 });
    // The copy was taken before the download was logged.
    expect(copy.auditEntries).toBe((await auditEntries()) - 1);
    // The temporary folder goes when the response stream closes (a moment after the reply; longer on a busy machine).
    await expect.poll(() => readdirSync(t.dir).filter((f) => f.startsWith('.backup-')), { timeout: 5000, interval: 20 }).toEqual([]);

    // A lone .db restores too, keeping the data folder's own keys.
    const target = path.join(work, 'from-download');
    const r = restoreDataDir({ from: file, dataDir: target, force: false, now: new Date() });
    expect(r.restored).toEqual(['ceping.db']);
    expect(databaseCounts(path.join(target, 'ceping.db'))).toEqual(copy);
  });
});

// ---- a whole year: export, import elsewhere, verify ----

describe('the year archive', () => {
  let a: TestApp;
  let b: TestApp;
  let work: string;
  beforeEach(async () => {
    [a, b] = await Promise.all([makeTestApp(), makeTestApp()]);
    work = mkdtempSync(path.join(tmpdir(), 'ceping-year-test-'));
  });
  afterEach(async () => {
    await Promise.all([a.close(), b.close()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('exports every sealed meeting of a campaign as one signed file that verifies and imports read-only on another Ceping', async () => {
    const m = await makeMeeting(a, { kind: 'station', roster: 5 });
    for (const [i, token] of m.tokens.entries()) await cast(a, token, distinctPackage(m.form!, i));
    await closeAndSeal(a, m.session, m.meetingId);
    await sealedMeetingInCampaign(a, m.session, m.campaignId, '农业服务中心', 4);
    await makeMeeting(a, { kind: 'station', roster: 3 }); // another campaign, still voting: not in the file

    const res = await a.app.inject({ method: 'GET', url: `/api/campaigns/${m.campaignId}/archive`, headers: m.session.headers });
    expect(res.statusCode).toBe(200);
    expect(String(res.headers['content-disposition'])).toContain("filename*=UTF-8''");
    const year = res.body;
    const v = verifyArchiveText(year);
    expect(v.kind).toBe('year');
    expect(failedIds(v)).toEqual([]);
    expect(v.ok).toBe(true);
    if (v.kind !== 'year') throw new Error('year');
    expect(v.summary).toMatchObject({ township: '插旗镇', year: 2020, meetings: 2 });
    expect(v.meetings.map((x) => x.summary!.unitName)).toEqual(['红旗村', '农业服务中心']);
    expect(v.meetings.every((x) => x.ok)).toBe(true);

    const file = path.join(work, 'year.json');
    writeFileSync(file, year);
    expect(runVerifyCli(file).status).toBe(3);
    const run = runVerifyCli(file, '--fingerprint', publicKeyInfo(a.signingKey).fingerprint);
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('年度档案 / whole-year archive');
    expect(run.stdout).toContain('全部通过 / ALL CHECKS PASSED');

    // Dropping a meeting from the file, or changing one, fails.
    const parsed = JSON.parse(year) as { archives: unknown[] };
    expect(failedIds(verifyArchiveText(archiveFileText({ ...parsed, archives: parsed.archives.slice(1) } as never)))).toContain('complete');

    // Import on another Ceping.
    const admin = await loginAs(b);
    const imported = await b.app.inject({ method: 'POST', url: '/api/archives/import?label=year.json', headers: admin.headers, payload: JSON.parse(year) });
    expect(imported.statusCode, imported.body).toBe(200);
    const body = imported.json() as { imported: { id: number; verified: boolean; unitName: string; fingerprint: string }[]; duplicates: number; manifest: { verified: boolean } };
    expect(body.manifest).toEqual({ verified: true, problems: [] });
    expect(body.imported.map((x) => [x.unitName, x.verified])).toEqual([['红旗村', true], ['农业服务中心', true]]);
    expect(body.imported[0]!.fingerprint).toBe(publicKeyInfo(a.signingKey).fingerprint);

    const list = (await call<{ archives: { id: number; verified: boolean; problems: string[]; source: { label: string; manifestVerified: boolean } }[] }>(b, admin, 'GET', '/api/imported-archives')).archives;
    expect(list).toHaveLength(2);
    expect(list.every((x) => x.verified && x.problems.length === 0 && x.source.label === 'year.json' && x.source.manifestVerified)).toBe(true);
    const one = await b.app.inject({ method: 'GET', url: `/api/imported-archives/${list[0]!.id}/file`, headers: admin.headers });
    expect(verifyArchiveText(one.body).ok).toBe(true);
    // Viewed on the other Ceping, the imported meeting reads exactly as its own server's report.
    const original = await call<{ results: unknown; paragraph: string; comments: string[]; meeting: { unitName: string } }>(a, m.session, 'GET', `/api/meetings/${m.meetingId}/report`);
    const viewed = await call<{ report: typeof original; verified: boolean }>(b, admin, 'GET', `/api/imported-archives/${list.find((x) => (x as unknown as { unitName: string }).unitName === original.meeting.unitName)!.id}/report`);
    expect(viewed.verified).toBe(true);
    expect(viewed.report.results).toEqual(original.results);
    expect(viewed.report.paragraph).toBe(original.paragraph);
    expect([...viewed.report.comments].sort()).toEqual([...original.comments].sort());
    await expect(sql`update imported_archives set verified = 0`.execute(b.db)).rejects.toThrow(/read-only/);

    // The same file again adds nothing; a changed copy of one meeting is kept, marked as failed.
    const twice = (await b.app.inject({ method: 'POST', url: '/api/archives/import', headers: admin.headers, payload: JSON.parse(year) })).json();
    expect(twice).toMatchObject({ imported: [], duplicates: 2 });
    const single = JSON.parse(tampered(JSON.stringify((parsed.archives[0] as object)), (r) => { r.ballots[0].E = { text: '改动' }; }));
    const bad = (await b.app.inject({ method: 'POST', url: '/api/archives/import', headers: admin.headers, payload: single })).json();
    expect(bad.manifest).toBeNull();
    expect(bad.imported).toHaveLength(1);
    expect(bad.imported[0].verified).toBe(false);
    expect(bad.imported[0].problems.join('')).toContain('SHA-256');

    const junk = await b.app.inject({ method: 'POST', url: '/api/archives/import', headers: admin.headers, payload: { hello: 'world' } });
    expect(junk.statusCode).toBe(400);
    expect(junk.json().error.code).toBe('ARCHIVE_INVALID');
    const inspector = await loginAs(b, { role: 'inspector' });
    expect((await b.app.inject({ method: 'POST', url: '/api/archives/import', headers: inspector.headers, payload: JSON.parse(year) })).statusCode).toBe(403);
  });
});
