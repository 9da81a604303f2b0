/**
 * Archive verify without a server: a meeting record built here from ballots typed in by hand, signed
 * with a key made here, then changed one fact at a time and signed again, so that each check is seen
 * to fail on its own fact and only there. (tests/api/archive.test.ts does the same on files that a
 * running Ceping sealed.)
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { archiveFileText, signArchive, signYearArchive } from '../../server/archive/archive.build.ts';
import { MEETING_ARCHIVE_FORMAT, type ArchiveRecord, type SignedArchive } from '../../server/archive/archive.schemas.ts';
import {
  verifyArchiveText, verifyArchiveValue, verifyMeetingArchive, verifyYearArchive, type Verification, type YearVerification,
} from '../../server/archive/archive.verify.ts';
import { publicKeyInfo } from '../../server/archive/signing.ts';
import { validatePackage } from '../../server/ballots/validate-package.ts';
import { computeResults, sumRows, tallyIncrements } from '../../server/counting/tally.ts';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import { makeForm, recommendPart } from '../factories/forms.ts';

const key = generateKeyPairSync('ed25519').privateKey;
const other = generateKeyPairSync('ed25519').privateKey;
const form = makeForm({ members: 2, candidates: 2, parts: { B: { quotas: [] } } });
const [c1] = recommendPart(form).candidates;

/** Five ballots: four from phones, one paper with part B void. */
const typed: { pkg: BallotPackage; paper: boolean }[] = [
  ...['good', 'fair', 'good', 'average'].map((g, i) => ({
    paper: false,
    pkg: {
      A: { grades: Object.fromEntries(['s1', 's2', 's3', 's4', 's5', 's6'].map((s) => [s, g])) },
      B: { grades: { team: 'competent', m1: i === 0 ? 'excellent' : 'competent', m2: 'basic' } },
      C: { grades: { s1: g } },
      D: { picks: i < 2 ? [c1!.key] : [], writeIns: i === 3 ? ['田野'] : [] },
      E: { text: i === 1 ? '建议加强村务公开' : '' },
    },
  })),
  { paper: true, pkg: { B: { void: true } } },
];
const ballots = () => typed.map(({ pkg, paper }) => {
  const c = validatePackage(form, pkg, paper ? 'paper' : 'phone');
  if (!c.ok) throw new Error(c.problem.message);
  return c.pkg;
});

/** The record as Ceping seals it: 应到 7, 实到 6, 发出 5, 收回 5 (1 on paper). */
function record(): ArchiveRecord {
  const turnout = { expected: 7, present: 6, issued: 5, returned: 5, paper: 1, paperIssued: 1, reissued: 0 };
  return structuredClone({
    format: MEETING_ARCHIVE_FORMAT,
    version: 2,
    township: '插旗镇',
    year: 2020,
    campaign: '2020年度考察',
    unit: { name: '红旗村', kind: 'village' },
    meeting: {
      id: 3, plannedAt: null, location: '村委会', inspectionTeam: '第一考察组', signinStartedAt: '2020-11-25T01:00:00.000Z',
      votingOpenedAt: '2020-11-25T02:00:00.000Z', votingClosedAt: '2020-11-25T03:00:00.000Z', sealedAt: '2020-11-25T04:00:00.000Z',
      quorumOverrideReason: '人数不足，考察组同意', keyFingerprint: null,
    },
    form,
    turnout,
    results: computeResults(form, sumRows(ballots().flatMap((b) => tallyIncrements(form, b))), turnout),
    ballots: ballots(),
    roster: { expected: 7, present: 6, categories: [{ category: '党员', expected: 5, present: 4 }, { category: '群众', expected: 2, present: 2 }] },
    audit: [{ at: '2020-11-25T04:00:00.000Z', event: 'meeting.sealed', actor: '考察组', detail: {} }],
    signer: publicKeyInfo(key),
  }) as ArchiveRecord;
}

/** A record changed by `change`, then signed (by `by`, the server's key unless said otherwise). */
function signed(change: (r: ArchiveRecord) => void = () => {}, by: KeyObject = key): SignedArchive {
  const r = record();
  change(r);
  if (by !== key) r.signer = publicKeyInfo(by);
  const { canonical: _c, ...file } = signArchive(r, by);
  return file;
}

const failed = (v: Verification) => v.checks.filter((c) => !c.ok && !c.warning).map((c) => c.id);
const check = (v: Verification, id: string) => v.checks.find((c) => c.id === id)!;

describe('a meeting archive', () => {
  it('verifies as sealed, every check named and passed, with its summary', () => {
    const v = verifyMeetingArchive(signed());
    expect(v.checks.map((c) => [c.id, c.ok])).toEqual([
      ['hash', true], ['signature', true], ['ballots', true], ['recount', true], ['figures', true], ['returned', true], ['turnout', true], ['roster', true],
    ]);
    expect(v.ok).toBe(true);
    expect(v.fingerprint).toBe(publicKeyInfo(key).fingerprint);
    expect(v.summary).toEqual({
      township: '插旗镇', year: 2020, unitName: '红旗村', unitKind: 'village', sealedAt: '2020-11-25T04:00:00.000Z',
      turnout: record().turnout, ballots: 5,
    });
    expect(check(v, 'turnout').zh).toBe('纸质票 1 ≤ 收回 5 ≤ 发出 5 ≤ 实到 6，实到 ≤ 应到 7；纸质票 1 ≤ 发出纸质票 1');
    expect(check(v, 'roster').zh).toBe('签到名单人数（应到 7、实到 6）与统计一致');
    expect(check(v, 'ballots').zh).toBe('5 张选票均符合测评表');
  });

  // Each fact of the turnout chain, broken and re-signed with the server's own key. 实到 ≤ 应到 and
  // 纸质票 ≤ 收回 are the turnout check's alone; the others the recount refuses as well.
  const chain: [string, (r: ArchiveRecord) => void, string[]][] = [
    ['实到 > 应到', (r) => { r.turnout.present = 8; r.roster.present = 8; r.roster.categories[1]!.present = 4; }, ['turnout']],
    ['纸质票 > 收回', (r) => { r.turnout.paper = 6; r.turnout.paperIssued = 6; }, ['turnout']],
    ['发出 > 实到', (r) => { r.turnout.present = 4; r.roster.present = 4; r.roster.categories[0]!.present = 2; }, ['recount', 'turnout']],
    ['纸质票 > 发出纸质票', (r) => { r.turnout.paperIssued = 0; }, ['recount', 'turnout']],
  ];
  for (const [what, change, fails] of chain) {
    it(`fails the turnout check when ${what}`, () => {
      const v = verifyMeetingArchive(signed((r) => { change(r); r.results.turnout = r.turnout; }));
      expect(failed(v)).toEqual(fails);
      expect(v.ok).toBe(false);
      expect(check(v, 'turnout').zh).toMatch(/：不成立$/);
      expect(check(v, 'turnout').en).toMatch(/: does not hold$/);
    });
  }

  it('takes 补发 into account: issued may exceed present by the tickets reissued, and no more', () => {
    const reissue = (n: number) => (r: ArchiveRecord) => {
      r.turnout.present = 4; r.roster.present = 4; r.roster.categories[0]!.present = 2; r.turnout.reissued = n; r.results.turnout = r.turnout;
    };
    const ok = verifyMeetingArchive(signed(reissue(1)));
    expect(failed(ok)).toEqual([]);
    expect(check(ok, 'turnout').zh).toContain('≤ 实到 4 + 补发 1，');
    expect(check(ok, 'turnout').en).toContain('≤ present 4 + reissued 1,');
    expect(failed(verifyMeetingArchive(signed(reissue(0))))).toEqual(['recount', 'turnout']);
  });

  it('an archive from before paper forms were counted apart has no paper cap to check', () => {
    const v = verifyMeetingArchive(signed((r) => { delete r.turnout.paperIssued; delete r.turnout.reissued; r.results.turnout = r.turnout; }));
    expect(failed(v)).toEqual([]);
    expect(check(v, 'turnout').zh).toBe('纸质票 1 ≤ 收回 5 ≤ 发出 5 ≤ 实到 6，实到 ≤ 应到 7');
    expect(check(v, 'turnout').en).toBe('paper 1 ≤ returned 5 ≤ issued 5 ≤ present 6, present ≤ expected 7');
  });

  it('fails the roster check when the sign-in counts disagree with the turnout or with their categories', () => {
    for (const change of [
      (r: ArchiveRecord) => { r.roster.expected = 8; r.roster.categories[0]!.expected = 6; },
      (r: ArchiveRecord) => { r.roster.present = 5; r.roster.categories[0]!.present = 3; },
      (r: ArchiveRecord) => { r.roster.categories[0]!.expected = 4; },
      (r: ArchiveRecord) => { r.roster.categories[0]!.present = 3; },
    ]) {
      const v = verifyMeetingArchive(signed(change));
      expect(failed(v)).toEqual(['roster']);
      expect(check(v, 'roster').zh).toBe('签到名单人数与应到/实到人数不一致');
    }
  });

  it('fails the returned check when the file holds another number of ballots than 收回', () => {
    const v = verifyMeetingArchive(signed((r) => { r.ballots.pop(); }));
    expect(failed(v)).toEqual(expect.arrayContaining(['recount', 'returned']));
    expect(check(v, 'returned').zh).toBe('收回票数 5 ≠ 选票张数 4');
    expect(check(v, 'returned').en).toBe('returned 5 differs from the 4 ballots in the file');
  });

  it('fails the ballots check on a package the form refuses or one not in normalized form', () => {
    const refused = verifyMeetingArchive(signed((r) => { r.ballots[0] = { ...r.ballots[0], B: { grades: { team: 'superb', m1: 'competent', m2: 'basic' } } }; }));
    expect(failed(refused)).toContain('ballots');
    expect(check(refused, 'ballots').zh).toMatch(/^1 张选票不符合测评表：#1: /);
    const loose = verifyMeetingArchive(signed((r) => { r.ballots[4] = { B: { void: true } }; }));
    expect(failed(loose)).toContain('ballots');
    expect(check(loose, 'ballots').zh).toContain('#5: 不是规范化的选票');
  });

  it('accepts a comment with noncharacters as a Ceping before 2026-12-01 sealed it (they were kept then, dropped now), and nothing else loose', () => {
    const older = verifyMeetingArchive(signed((r) => { (r.ballots[1] as { E: { text: string } }).E.text = '建议加强\uffff村务公开\ufffe'; }));
    expect(failed(older)).toEqual([]);
    // Kept as the older rule kept it: dropped after the trim, a space before it stays (today's rule drops first, then trims).
    const spaced = verifyMeetingArchive(signed((r) => { (r.ballots[1] as { E: { text: string } }).E.text = '建议加强村务公开 \uffff'; }));
    expect(failed(spaced)).toEqual([]);
    const loose = verifyMeetingArchive(signed((r) => { (r.ballots[1] as { E: { text: string } }).E.text = '建议加强\u0007村务公开'; }));
    expect(check(loose, 'ballots').zh).toContain('#2: 不是规范化的选票');
  });

  it('names the count that differs from the recount, not the percentages that follow from it', () => {
    const v = verifyMeetingArchive(signed((r) => {
      const b = r.results.parts.find((p) => p.key === 'B')!;
      if (b.kind !== 'rating') throw new Error('B');
      b.rows[0]!.counts[1]! -= 1;
      b.rows[0]!.counts[2]! += 1;
    }));
    expect(failed(v)).toEqual(['recount', 'figures']);
    const zh = check(v, 'recount').zh;
    expect(zh).toContain('results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].counts[称职]: 存档 stored 3, 重新计票 recount 4');
    expect(zh).toContain('counts[基本称职]: 存档 stored 1, 重新计票 recount 0');
    expect(zh).not.toMatch(/shares|rates/);
  });

  it('an unsigned change fails the hash and the signature; a file signed by another key fails only against the printed fingerprint', () => {
    const file = signed();
    const changed = { ...file, record: { ...file.record, township: '别的镇' } };
    const v = verifyMeetingArchive(changed);
    expect(failed(v)).toEqual(['hash', 'signature']);
    expect(check(v, 'hash').zh).toContain(`SHA-256 摘要不一致：文件记载 ${file.sha256}`);
    expect(v.fingerprint).toBeNull();

    const foreign = signed(() => {}, other);
    expect(failed(verifyMeetingArchive(foreign))).toEqual([]);
    const pinned = verifyMeetingArchive(foreign, { expectedFingerprint: publicKeyInfo(key).fingerprint.toLowerCase().replace(/ /g, '') });
    expect(failed(pinned)).toEqual(['key']);
    expect(check(pinned, 'key').zh).toContain('不是由该服务器签名');
    const own = verifyMeetingArchive(signed(), { expectedFingerprint: publicKeyInfo(key).fingerprint });
    expect(check(own, 'key')).toMatchObject({ ok: true });
  });

  it('a stated fingerprint that is not the signing key\'s fails the signature check', () => {
    const v = verifyMeetingArchive(signed((r) => { r.signer.fingerprint = publicKeyInfo(other).fingerprint; }));
    expect(failed(v)).toEqual(['signature']);
    expect(check(v, 'signature').zh).toContain('签名有效，但记载的指纹');
  });

  it('a file that is not an archive, or whose record is malformed, says so and goes no further', () => {
    const notOne = verifyMeetingArchive({ hello: 1 });
    expect(notOne.checks.map((c) => c.id)).toEqual(['format']);
    expect(notOne).toMatchObject({ ok: false, summary: null, sha256: null, fingerprint: null });
    const malformed = verifyMeetingArchive(signed((r) => { (r as { year: unknown }).year = '二〇二〇'; }));
    expect(malformed.checks.map((c) => c.id)).toEqual(['hash', 'signature', 'record']);
    expect(malformed).toMatchObject({ ok: false, summary: null });
    expect(check(malformed, 'record').zh).toMatch(/^档案内容结构不正确：year: /);
  });
});

describe('what the verifier says, word for word', () => {
  // Each scenario's checks as a 监票人 reads them (zh) and as the CLI prints them (en), read and
  // confirmed against the scenario by hand.
  const fp = publicKeyInfo(key).fingerprint;
  const fpOther = publicKeyInfo(other).fingerprint;
  /** The checks an untouched part of the sample file passes, in the verifier's words (written out by hand). */
  const PASSED = {
    hash: { id: 'hash', ok: true, zh: '档案 SHA-256 摘要一致', en: 'record SHA-256 matches' },
    signature: { id: 'signature', ok: true, zh: `档案签名有效（公钥指纹 ${fp}）`, en: `record signature valid (key fingerprint ${fp})` },
    ballots: { id: 'ballots', ok: true, zh: '5 张选票均符合测评表', en: 'all 5 ballots fit the form' },
    figures: { id: 'figures', ok: true, zh: '存档中的每个百分比都等于票数 ÷ 有效票（四舍五入保留一位小数），需进一步考察的标记和推荐名次都与票数一致', en: 'every percentage in the file equals its count ÷ valid ballots rounded half up to one decimal; review flags and ranks agree with the counts' },
    returned: { id: 'returned', ok: true, zh: '收回票数 5 = 选票张数 5', en: 'returned 5 equals the 5 ballots in the file' },
    turnout: { id: 'turnout', ok: true, zh: '纸质票 1 ≤ 收回 5 ≤ 发出 5 ≤ 实到 6，实到 ≤ 应到 7；纸质票 1 ≤ 发出纸质票 1', en: 'paper 1 ≤ returned 5 ≤ issued 5 ≤ present 6, present ≤ expected 7; paper 1 ≤ paper forms issued 1' },
    roster: { id: 'roster', ok: true, zh: '签到名单人数（应到 7、实到 6）与统计一致', en: 'roster counts agree with expected/present' },
  };
  it('a sound file, its key pinned', () => {
    const v = verifyMeetingArchive(signed(), { expectedFingerprint: fp });
    expect(v.ok).toBe(true);
    expect(v.checks).toEqual([
      PASSED.hash,
      PASSED.signature,
      { id: 'key', ok: true, zh: `签名公钥与指定指纹 ${fp} 一致`, en: `signing key matches the expected fingerprint ${fp}` },
      PASSED.ballots,
      { id: 'recount', ok: true, zh: '重新计票结果与存档结果一致', en: 'recount of the ballots matches the stored results' },
      PASSED.figures,
      PASSED.returned,
      PASSED.turnout,
      PASSED.roster,
    ]);
  });
  it('a file signed by another key than the pinned one', () => {
    const v = verifyMeetingArchive(signed(() => {}, other), { expectedFingerprint: fp });
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      PASSED.hash,
      { id: 'signature', ok: true, zh: `档案签名有效（公钥指纹 ${fpOther}）`, en: `record signature valid (key fingerprint ${fpOther})` },
      { id: 'key', ok: false, zh: `签名公钥指纹 ${fpOther} 与指定的 ${fp} 不符：不是由该服务器签名`, en: `signing key ${fpOther} is not the expected ${fp}: not signed by that server` },
      PASSED.ballots,
      { id: 'recount', ok: true, zh: '重新计票结果与存档结果一致', en: 'recount of the ballots matches the stored results' },
      PASSED.figures,
      PASSED.returned,
      PASSED.turnout,
      PASSED.roster,
    ]);
  });
  it('a stated fingerprint that is not the key\'s', () => {
    const v = verifyMeetingArchive(signed((r) => { r.signer.fingerprint = 'AAAA BBBB'; }));
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      PASSED.hash,
      { id: 'signature', ok: false, zh: `档案签名有效，但记载的指纹 AAAA BBBB 与公钥的指纹 ${fp} 不符`, en: `record signature valid, but the stated fingerprint AAAA BBBB is not the key's ${fp}` },
      PASSED.ballots,
      { id: 'recount', ok: true, zh: '重新计票结果与存档结果一致', en: 'recount of the ballots matches the stored results' },
      PASSED.figures,
      PASSED.returned,
      PASSED.turnout,
      PASSED.roster,
    ]);
  });
  it('a count changed and re-signed', () => {
    const v = verifyMeetingArchive(signed((r) => { const b = r.results.parts.find((p) => p.key === 'B')!; if (b.kind !== 'rating') throw new Error('B'); b.rows[0]!.counts[1]! -= 1; b.rows[0]!.counts[2]! += 1; }));
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      PASSED.hash,
      PASSED.signature,
      PASSED.ballots,
      { id: 'recount', ok: false, zh: '重新计票结果与存档结果不一致：results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].counts[称职]: 存档 stored 3, 重新计票 recount 4；results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].counts[基本称职]: 存档 stored 1, 重新计票 recount 0', en: 'recount of the ballots differs from the stored results: results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].counts[称职]: 存档 stored 3, 重新计票 recount 4; results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].counts[基本称职]: 存档 stored 1, 重新计票 recount 0' },
      { id: 'figures', ok: false, zh: '存档中的数字与票数不符：班子集体和成员年度考核民主测评表 班子集体 称职：显示 100.0%，3/4 应为 75.0%；班子集体和成员年度考核民主测评表 班子集体 基本称职：显示 0.0%，1/4 应为 25.0%；班子集体和成员年度考核民主测评表 班子集体 称职以上率：显示 100.0%，3/4 应为 75.0%', en: 'figures in the file disagree with their counts: 班子集体和成员年度考核民主测评表 班子集体 称职：显示 100.0%，3/4 应为 75.0%; 班子集体和成员年度考核民主测评表 班子集体 基本称职：显示 0.0%，1/4 应为 25.0%; 班子集体和成员年度考核民主测评表 班子集体 称职以上率：显示 100.0%，3/4 应为 75.0%' },
      PASSED.returned,
      PASSED.turnout,
      PASSED.roster,
    ]);
  });
  it('a displayed share changed and re-signed', () => {
    const v = verifyMeetingArchive(signed((r) => { const b = r.results.parts.find((p) => p.key === 'B')!; if (b.kind !== 'rating') throw new Error('B'); b.rows[0]!.shares[0] = { tenths: 1, text: '0.1%' }; }));
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      PASSED.hash,
      PASSED.signature,
      PASSED.ballots,
      { id: 'recount', ok: false, zh: '重新计票结果与存档结果不一致：results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].shares[优秀].tenths: 存档 stored 1, 重新计票 recount 0；results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].shares[优秀].text: 存档 stored "0.1%", 重新计票 recount "0.0%"', en: 'recount of the ballots differs from the stored results: results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].shares[优秀].tenths: 存档 stored 1, 重新计票 recount 0; results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].shares[优秀].text: 存档 stored "0.1%", 重新计票 recount "0.0%"' },
      { id: 'figures', ok: false, zh: '存档中的数字与票数不符：班子集体和成员年度考核民主测评表 班子集体 优秀：显示 0.1%，0/4 应为 0.0%', en: 'figures in the file disagree with their counts: 班子集体和成员年度考核民主测评表 班子集体 优秀：显示 0.1%，0/4 应为 0.0%' },
      PASSED.returned,
      PASSED.turnout,
      PASSED.roster,
    ]);
  });
  it('a version 1 file (a warning, not a failure)', () => {
    const v = verifyMeetingArchive(signed((r) => { (r as { version: number }).version = 1; }));
    expect(v.ok).toBe(true);
    expect(v.checks).toEqual([
      PASSED.hash,
      PASSED.signature,
      PASSED.ballots,
      { id: 'recount', ok: true, zh: '重新计票结果与存档结果一致', en: 'recount of the ballots matches the stored results' },
      { id: 'figures', ok: false, zh: '第1版档案：其中的百分比按旧规则舍入（每行凑足100.0%），个别数字可能与「票数 ÷ 有效票，四舍五入」相差0.1个百分点；票数已逐张核对', en: 'version 1 file: its percentages were apportioned so that each row sums to 100.0%, and may differ by 0.1 from each ratio rounded on its own; the counts were recounted', warning: true },
      PASSED.returned,
      PASSED.turnout,
      PASSED.roster,
    ]);
  });
  it('a ballot missing, with 补发 and a roster that disagrees', () => {
    const v = verifyMeetingArchive(signed((r) => { r.ballots.pop(); r.turnout.present = 4; r.turnout.reissued = 1; r.roster.present = 5; }));
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      PASSED.hash,
      PASSED.signature,
      { id: 'ballots', ok: true, zh: '4 张选票均符合测评表', en: 'all 4 ballots fit the form' },
      { id: 'recount', ok: false, zh: '重新计票失败：ballots: valid 4 + void 0 ≠ returned 5', en: 'recount failed: ballots: valid 4 + void 0 ≠ returned 5' },
      PASSED.figures,
      { id: 'returned', ok: false, zh: '收回票数 5 ≠ 选票张数 4', en: 'returned 5 differs from the 4 ballots in the file' },
      { id: 'turnout', ok: true, zh: '纸质票 1 ≤ 收回 5 ≤ 发出 5 ≤ 实到 4 + 补发 1，实到 ≤ 应到 7；纸质票 1 ≤ 发出纸质票 1', en: 'paper 1 ≤ returned 5 ≤ issued 5 ≤ present 4 + reissued 1, present ≤ expected 7; paper 1 ≤ paper forms issued 1' },
      { id: 'roster', ok: false, zh: '签到名单人数与应到/实到人数不一致', en: 'roster counts disagree with expected/present' },
    ]);
  });
  it('a ballot of the wrong shape', () => {
    const v = verifyMeetingArchive(signed((r) => { r.ballots[0] = { ...r.ballots[0], D: { picks: 5, writeIns: [] } } as never; }));
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      PASSED.hash,
      PASSED.signature,
      { id: 'record', ok: false, zh: '档案内容结构不正确：ballots.0.D: Invalid input', en: 'record structure is wrong: ballots.0.D: Invalid input' },
    ]);
  });
  it('a turnout the recount refuses', () => {
    const v = verifyMeetingArchive(signed((r) => { r.turnout.issued = 4; r.results.turnout = r.turnout; }));
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      PASSED.hash,
      PASSED.signature,
      PASSED.ballots,
      { id: 'recount', ok: false, zh: '重新计票失败：收回 5 > 发出 4', en: 'recount failed: 收回 5 > 发出 4' },
      PASSED.figures,
      PASSED.returned,
      { id: 'turnout', ok: false, zh: '纸质票 1 ≤ 收回 5 ≤ 发出 4 ≤ 实到 6，实到 ≤ 应到 7；纸质票 1 ≤ 发出纸质票 1：不成立', en: 'paper 1 ≤ returned 5 ≤ issued 4 ≤ present 6, present ≤ expected 7; paper 1 ≤ paper forms issued 1: does not hold' },
      PASSED.roster,
    ]);
  });
  it('not an archive', () => {
    const v = verifyMeetingArchive({ format: 'x' });
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      { id: 'format', ok: false, zh: '不是 Ceping 会议档案文件：record: Invalid input: expected record, received undefined; sha256: Invalid input: expected string, received undefined; signature: Invalid input: expected string, received undefined', en: 'not a Ceping meeting archive: record: Invalid input: expected record, received undefined; sha256: Invalid input: expected string, received undefined; signature: Invalid input: expected string, received undefined' },
    ]);
  });
  it('canonical bytes', () => {
    expect(verifyArchiveText(archiveFileText(signed())).checks[0]).toEqual({ id: 'bytes', ok: true, zh: '文件字节为规范格式', en: 'file bytes are in canonical form' });
  });
  it('bytes not canonical', () => {
    expect(verifyArchiveText(` ${archiveFileText(signed())}`).checks[0]).toEqual({ id: 'bytes', ok: false, zh: '文件字节不是 Ceping 写出的规范格式（文件被改动或重新排版过）', en: 'file bytes are not the canonical form Ceping writes (edited or reformatted)' });
  });
  it('not JSON', () => {
    const v = verifyArchiveText('{');
    expect(v.ok).toBe(false);
    expect(v.checks).toEqual([
      { id: 'json', ok: false, zh: '文件不是有效的 JSON：Expected property name or \'}\' in JSON at position 1', en: 'file is not valid JSON: Expected property name or \'}\' in JSON at position 1' },
    ]);
  });
});

describe('the file text', () => {
  it('must be the canonical bytes Ceping writes, with at most one final newline', () => {
    const text = archiveFileText(signed());
    expect(verifyArchiveText(text).ok).toBe(true);
    expect(verifyArchiveText(text.trimEnd()).ok).toBe(true);
    const spaced = verifyArchiveText(` ${text}`);
    expect(spaced.ok).toBe(false);
    expect(failed(spaced)).toEqual(['bytes']);
    expect(verifyArchiveText(`${text}\n`).ok).toBe(false);
    const broken = verifyArchiveText(text.slice(0, 40));
    expect(broken.checks.map((c) => c.id)).toEqual(['json']);
    expect(broken.ok).toBe(false);
  });
});

describe('a year archive', () => {
  const manifest = (archives: SignedArchive[]) => ({
    township: '插旗镇', year: 2020, campaign: '2020年度考察', campaignId: 1, exportedAt: '2020-12-01T00:00:00.000Z',
    meetings: archives.map((a, i) => ({ meetingId: i + 1, unitName: '红旗村', sealedAt: '2020-11-25T04:00:00.000Z', sha256: a.sha256 })),
  });
  // Signed inside each test (not while the file is collected), so a mutation tool sees which test ran what.
  const makeA = () => signed();
  const makeB = () => signed((r) => { r.meeting.id = 4; });

  it('says, word for word, what it found', () => {
    const a = makeA(); const b = makeB();
    const foreign = signed(() => {}, other);
    const fp = publicKeyInfo(key).fingerprint;
    const fpOther = publicKeyInfo(other).fingerprint;
    const says: [string, YearVerification, boolean, Verification['checks']][] = [
      ['all meetings listed, one key', verifyYearArchive(signYearArchive(manifest([a, b]), [a, b], key)), true, [
        { id: 'hash', ok: true, zh: '年度清单 SHA-256 摘要一致', en: 'year manifest SHA-256 matches' },
        { id: 'signature', ok: true, zh: `年度清单签名有效（公钥指纹 ${fp}）`, en: `year manifest signature valid (key fingerprint ${fp})` },
        { id: 'complete', ok: true, zh: '清单所列 2 个会议档案齐全', en: 'all 2 meeting archives listed in the manifest are present' },
        { id: 'consistent', ok: true, zh: '各会议档案的乡镇、年度、单位与清单一致', en: 'township, year and unit of every meeting agree with the manifest' },
        { id: 'same-key', ok: true, zh: '所有会议档案与年度清单由同一密钥签名', en: 'every meeting archive is signed by the manifest\'s key', warning: true },
      ]],
      ['a listed meeting missing', verifyYearArchive(signYearArchive(manifest([a, b]), [a], key)), false, [
        { id: 'hash', ok: true, zh: '年度清单 SHA-256 摘要一致', en: 'year manifest SHA-256 matches' },
        { id: 'signature', ok: true, zh: `年度清单签名有效（公钥指纹 ${fp}）`, en: `year manifest signature valid (key fingerprint ${fp})` },
        { id: 'complete', ok: false, zh: '档案与清单不符：缺少 红旗村，多出 0 个，重复 0 个', en: 'archives do not match the manifest: 1 missing, 0 unlisted, 0 duplicated' },
        { id: 'consistent', ok: true, zh: '各会议档案的乡镇、年度、单位与清单一致', en: 'township, year and unit of every meeting agree with the manifest' },
        { id: 'same-key', ok: true, zh: '所有会议档案与年度清单由同一密钥签名', en: 'every meeting archive is signed by the manifest\'s key', warning: true },
      ]],
      ['meetings not listed, one twice', verifyYearArchive(signYearArchive(manifest([a]), [a, b, b], key)), false, [
        { id: 'hash', ok: true, zh: '年度清单 SHA-256 摘要一致', en: 'year manifest SHA-256 matches' },
        { id: 'signature', ok: true, zh: `年度清单签名有效（公钥指纹 ${fp}）`, en: `year manifest signature valid (key fingerprint ${fp})` },
        { id: 'complete', ok: false, zh: '档案与清单不符：缺少 无，多出 2 个，重复 1 个', en: 'archives do not match the manifest: 0 missing, 2 unlisted, 1 duplicated' },
        { id: 'consistent', ok: true, zh: '各会议档案的乡镇、年度、单位与清单一致', en: 'township, year and unit of every meeting agree with the manifest' },
        { id: 'same-key', ok: true, zh: '所有会议档案与年度清单由同一密钥签名', en: 'every meeting archive is signed by the manifest\'s key', warning: true },
      ]],
      ['a manifest of another year', verifyYearArchive(signYearArchive({ ...manifest([a, b]), year: 2021 }, [a, b], key)), false, [
        { id: 'hash', ok: true, zh: '年度清单 SHA-256 摘要一致', en: 'year manifest SHA-256 matches' },
        { id: 'signature', ok: true, zh: `年度清单签名有效（公钥指纹 ${fp}）`, en: `year manifest signature valid (key fingerprint ${fp})` },
        { id: 'complete', ok: true, zh: '清单所列 2 个会议档案齐全', en: 'all 2 meeting archives listed in the manifest are present' },
        { id: 'consistent', ok: false, zh: '2 个会议档案的乡镇、年度或单位与清单不符', en: '2 meeting archives disagree with the manifest' },
        { id: 'same-key', ok: true, zh: '所有会议档案与年度清单由同一密钥签名', en: 'every meeting archive is signed by the manifest\'s key', warning: true },
      ]],
      ['a meeting signed by another key (a note)', verifyYearArchive(signYearArchive(manifest([foreign]), [foreign], key)), true, [
        { id: 'hash', ok: true, zh: '年度清单 SHA-256 摘要一致', en: 'year manifest SHA-256 matches' },
        { id: 'signature', ok: true, zh: `年度清单签名有效（公钥指纹 ${fp}）`, en: `year manifest signature valid (key fingerprint ${fp})` },
        { id: 'complete', ok: true, zh: '清单所列 1 个会议档案齐全', en: 'all 1 meeting archives listed in the manifest are present' },
        { id: 'consistent', ok: true, zh: '各会议档案的乡镇、年度、单位与清单一致', en: 'township, year and unit of every meeting agree with the manifest' },
        { id: 'same-key', ok: false, zh: `注意：1 个会议档案由另一密钥签名（${fpOther}）`, en: 'note: 1 meeting archives are signed by another key', warning: true },
      ]],
      ['not a year archive', verifyYearArchive({ format: 'x' }), false, [
        { id: 'format', ok: false, zh: '不是 Ceping 年度档案文件：format: Invalid input: expected "ceping.year-archive"; version: Invalid input: expected 1; manifest: Invalid input: expected record, received undefined', en: 'not a Ceping year archive: format: Invalid input: expected "ceping.year-archive"; version: Invalid input: expected 1; manifest: Invalid input: expected record, received undefined' },
      ]],
    ];
    for (const [what, v, ok, checks] of says) {
      expect(v.checks, what).toEqual(checks);
      expect(v.ok, what).toBe(ok);
    }
    const y = signYearArchive(manifest([a]), [a], key);
    expect(verifyYearArchive({ ...y, manifest: { ...y.manifest, year: 'x' } }).checks.slice(1)).toEqual([
      { id: 'signature', ok: false, zh: '年度清单签名无效（signature does not match）', en: 'year manifest signature invalid (signature does not match)' },
      { id: 'manifest', ok: false, zh: '年度清单结构不正确：year: Invalid input: expected number, received string', en: 'year manifest structure is wrong: year: Invalid input: expected number, received string' },
    ]);
  });

  it('verifies when it holds exactly the meetings its signed manifest lists', () => {
    const a = makeA(); const b = makeB();
    const year = signYearArchive(manifest([a, b]), [a, b], key);
    const v = verifyArchiveValue(year);
    expect(v.kind).toBe('year');
    expect(v.ok).toBe(true);
    expect(v.checks.map((c) => [c.id, c.ok])).toEqual([['hash', true], ['signature', true], ['complete', true], ['consistent', true], ['same-key', true]]);
    if (v.kind === 'year') expect(v.summary).toEqual({ township: '插旗镇', year: 2020, campaign: '2020年度考察', exportedAt: '2020-12-01T00:00:00.000Z', meetings: 2 });
  });

  it('fails when a listed meeting is missing, an unlisted one is added, or one is there twice', () => {
    const a = makeA(); const b = makeB();
    const missing = verifyYearArchive(signYearArchive(manifest([a, b]), [a], key));
    expect(failed(missing)).toEqual(['complete']);
    expect(check(missing, 'complete').zh).toContain('缺少 红旗村');
    expect(failed(verifyYearArchive(signYearArchive(manifest([a]), [a, b], key)))).toEqual(['complete']);
    expect(failed(verifyYearArchive(signYearArchive(manifest([a]), [a, a], key)))).toEqual(['complete']);
  });

  it('fails when a meeting disagrees with the manifest about its township, year, unit or seal', () => {
    const a = makeA();
    type Manifest = ReturnType<typeof manifest>;
    for (const change of [
      (m: Manifest) => { m.township = '别的镇'; },
      (m: Manifest) => { m.year = 2021; },
      (m: Manifest) => { m.meetings[0]!.unitName = '东风村'; },
      (m: Manifest) => { m.meetings[0]!.sealedAt = '2020-11-26T00:00:00.000Z'; },
    ]) {
      const m = manifest([a]);
      change(m);
      expect(failed(verifyYearArchive(signYearArchive(m, [a], key)))).toEqual(['consistent']);
    }
  });

  it('is not verified when one of its meetings fails, and notes meetings signed by another key', () => {
    const a = makeA();
    const bad = { ...a, record: { ...a.record, township: '别的镇' } };
    const v = verifyYearArchive(signYearArchive(manifest([a]), [bad], key));
    expect(v.ok).toBe(false);
    expect(v.meetings[0]!.ok).toBe(false);
    const foreign = signed(() => {}, other);
    const mixed = verifyYearArchive(signYearArchive(manifest([foreign]), [foreign], key));
    expect(mixed.ok).toBe(true);
    expect(check(mixed, 'same-key')).toMatchObject({ ok: false, warning: true });
    expect(check(mixed, 'same-key').zh).toContain(publicKeyInfo(other).fingerprint);
  });

  it('a malformed year file or manifest says so', () => {
    const a = makeA();
    expect(verifyYearArchive({}).checks.map((c) => c.id)).toEqual(['format']);
    const year = signYearArchive(manifest([a]), [a], key);
    const broken = { ...year, manifest: { ...year.manifest, year: 'x' } };
    const v = verifyYearArchive(broken);
    expect(v.ok).toBe(false);
    expect(v.checks.map((c) => c.id)).toContain('manifest');
    expect(v.summary).toBeNull();
  });
});

// Added after mutation testing (MUTATION.md): each test below fails on a small change to the verifier
// that the tests above let through. Every expected text is written out here by hand from the scenario.
describe('the verifier at its edges', () => {
  const fp = publicKeyInfo(key).fingerprint;
  /** A record's stored results, changed and re-signed, as a version 1 file (compared on its counts only). */
  const v1 = (change: (results: Record<string, unknown>) => void) =>
    verifyMeetingArchive(signed((r) => { (r as { version: number }).version = 1; change(r.results as unknown as Record<string, unknown>); }));
  const turnoutJson = '{"expected":7,"present":6,"issued":5,"returned":5,"paper":1,"paperIssued":1,"reissued":0}';
  const rowsA = ['把握政治方向', '夯实政治根基', '严肃政治生活', '提高政治能力', '严格政治自律', '总体评价'];
  type Row = { counts: number[]; shares: { tenths: number; text: string }[] };
  const rowsOf = (r: ArchiveRecord, key: string) => (r.results.parts.find((p) => p.key === key) as unknown as { rows: Row[] }).rows;

  it('a value that is not an object says so at the root, as a meeting file', () => {
    const v = verifyMeetingArchive(42);
    expect(v.kind).toBe('meeting');
    expect(v.checks).toEqual([
      { id: 'format', ok: false, zh: '不是 Ceping 会议档案文件：(root): Invalid input: expected object, received number', en: 'not a Ceping meeting archive: (root): Invalid input: expected object, received number' },
    ]);
    expect(verifyArchiveValue(signed()).kind).toBe('meeting');
    expect(verifyArchiveText('{').kind).toBe('meeting');
    expect(verifyArchiveValue(undefined).checks.map((c) => c.id)).toEqual(['format']);
  });

  it('a record with no canonical form (a lone surrogate) fails the hash check, and no signature is claimed', () => {
    const file = signed();
    const v = verifyMeetingArchive({ ...file, record: { ...file.record, township: '\uD800' } });
    expect(v.checks[0]).toEqual({ id: 'hash', ok: false, zh: '档案无法规范化：$.township: string holds a lone surrogate', en: 'record cannot be canonicalized: $.township: string holds a lone surrogate' });
    expect(v.checks.map((c) => c.id)).not.toContain('signature');
    expect(v.fingerprint).toBeNull();
    expect(v.ok).toBe(false);
  });

  it('an unsigned change names both hashes in English too', () => {
    const file = signed();
    const v = verifyMeetingArchive({ ...file, record: { ...file.record, township: '别的镇' } });
    expect(v.checks[0]!.en).toMatch(new RegExp(`^record SHA-256 differs: file says ${file.sha256}, content hashes to [0-9a-f]{64}$`));
    expect(v.checks[0]!.en).not.toContain(`hashes to ${file.sha256}`);
  });

  it('a signer without a stated fingerprint: the signature holds, the empty statement does not', () => {
    const v = verifyMeetingArchive(signed((r) => { delete (r.signer as { fingerprint?: string }).fingerprint; }));
    expect(v.checks).toEqual([
      { id: 'hash', ok: true, zh: '档案 SHA-256 摘要一致', en: 'record SHA-256 matches' },
      { id: 'signature', ok: false, zh: `档案签名有效，但记载的指纹  与公钥的指纹 ${fp} 不符`, en: `record signature valid, but the stated fingerprint  is not the key's ${fp}` },
      { id: 'record', ok: false, zh: '档案内容结构不正确：signer.fingerprint: Invalid input: expected string, received undefined', en: 'record structure is wrong: signer.fingerprint: Invalid input: expected string, received undefined' },
    ]);
  });

  it('a version 1 file is compared on its counts: a changed share is no difference, a changed count is', () => {
    const share = v1((res) => { (res.parts as { rows: Row[] }[])[1]!.rows[0]!.shares[0] = { tenths: 1, text: '0.1%' }; });
    expect(check(share, 'recount')).toMatchObject({ ok: true });
    expect(share.ok).toBe(true);
    const count = v1((res) => { (res.parts as { rows: Row[] }[])[1]!.rows[0]!.counts[2] = 1; });
    expect(check(count, 'recount')).toEqual({
      id: 'recount', ok: false,
      zh: '重新计票结果与存档结果不一致：results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].counts[基本称职]: 存档 stored 1, 重新计票 recount 0',
      en: 'recount of the ballots differs from the stored results: results.parts[班子集体和成员年度考核民主测评表].rows[班子集体].counts[基本称职]: 存档 stored 1, 重新计票 recount 0',
    });
  });

  it('names a difference of shape where it is: a part gone, a list for an object, a number for an object, an object for a number', () => {
    const texts = (v: Verification) => check(v, 'recount').zh;
    expect(texts(v1((res) => { (res.parts as unknown[])[0] = null; }))).toMatch(/^重新计票结果与存档结果不一致：results\.parts\[0\]: 存档 stored null, 重新计票 recount \{"kind":"rating","key":"A",/);
    expect(texts(v1((res) => { res.turnout = [1, 2]; }))).toBe(`重新计票结果与存档结果不一致：results.turnout: 存档 stored [1,2], 重新计票 recount ${turnoutJson}`);
    expect(texts(v1((res) => { res.turnout = 5; }))).toBe(`重新计票结果与存档结果不一致：results.turnout: 存档 stored 5, 重新计票 recount ${turnoutJson}`);
    // results.turnout is the record's turnout object itself (structuredClone keeps the sharing): replace, do not edit it.
    expect(texts(v1((res) => { res.turnout = { ...(res.turnout as object), expected: {} }; }))).toBe('重新计票结果与存档结果不一致：results.turnout.expected: 存档 stored {}, 重新计票 recount 7');
    expect(texts(v1((res) => { res.extra = 1; }))).toBe('重新计票结果与存档结果不一致：results.extra: 存档 stored 1, 重新计票 recount undefined');
    // A row's subject is the form's own subject object (shared as well): replaced, not edited.
    expect(texts(v1((res) => { const row = (res.parts as { rows: { subject: object }[] }[])[2]!.rows[0]!; row.subject = { ...row.subject, detail: {} }; })))
      .toBe('重新计票结果与存档结果不一致：results.parts[党组织书记抓基层党建工作述职评议表].rows[总体评价].subject.detail: 存档 stored {}, 重新计票 recount null');
  });

  it('names a count by its index when the stored part lists fewer grades, or none', () => {
    const B = 'results.parts[班子集体和成员年度考核民主测评表]';
    const cut = v1((res) => {
      const b = (res.parts as { grades?: unknown[]; rows: Row[] }[])[1]!;
      b.grades = b.grades!.slice(0, 1);
      b.rows[0]!.counts[2] = 1;
    });
    expect(check(cut, 'recount').zh).toBe(`重新计票结果与存档结果不一致：${B}.grades: 存档 1 项 / stored 1 items, 重新计票 4 项 / recount 4；${B}.rows[班子集体].counts[2]: 存档 stored 1, 重新计票 recount 0`);
    const none = v1((res) => {
      const b = (res.parts as { grades?: unknown[]; rows: Row[] }[])[1]!;
      delete b.grades;
      b.rows[0]!.counts[2] = 1;
    });
    // A member missing from the file is named as such, not reported as a failed recount.
    const grades = '[{"key":"excellent","label":"优秀"},{"key":"competent","label":"称职"},{"key":"basic","label":"基本称职"},{"key":"incompetent","label":"不称职"}]';
    expect(check(none, 'recount').zh).toBe(`重新计票结果与存档结果不一致：${B}.rows[班子集体].counts[2]: 存档 stored 1, 重新计票 recount 0；${B}.grades: 存档 stored undefined, 重新计票 recount ${grades}`);
  });

  it('lists at most three refused ballots, each with its reason', () => {
    const loose = verifyMeetingArchive(signed((r) => { for (const i of [0, 1, 2, 3]) r.ballots[i] = { B: { void: true } }; }));
    const why = '不是规范化的选票 / not a normalized package';
    expect(check(loose, 'ballots')).toEqual({
      id: 'ballots', ok: false,
      zh: `4 张选票不符合测评表：#1: ${why}；#2: ${why}；#3: ${why}`,
      en: `4 ballots do not fit the form: #1: ${why}; #2: ${why}; #3: ${why}`,
    });
    const refused = verifyMeetingArchive(signed((r) => { r.ballots[0] = { ...r.ballots[0], B: { grades: { team: 'superb', m1: 'competent', m2: 'basic' } } }; }));
    expect(check(refused, 'ballots').zh).toBe('1 张选票不符合测评表：#1: 第二部分「班子集体和成员年度考核民主测评表」：班子集体 的评价等次「superb」不存在');
  });

  it('names at most six counts that differ, never the percentages beside them, and at most four figures', () => {
    const v = verifyMeetingArchive(signed((r) => {
      for (const row of rowsOf(r, 'A')) row.counts[3] = 1;
      rowsOf(r, 'A')[0]!.shares[0] = { tenths: 1, text: '0.1%' };
      rowsOf(r, 'C')[0]!.counts[3] = 1;
    }));
    const named = rowsA.map((s) => `results.parts[党组织政治建设民主测评表].rows[${s}].counts[差]: 存档 stored 1, 重新计票 recount 0`);
    expect(check(v, 'recount')).toEqual({
      id: 'recount', ok: false,
      zh: `重新计票结果与存档结果不一致：${named.join('；')}`,
      en: `recount of the ballots differs from the stored results: ${named.join('; ')}`,
    });
    const A = '党组织政治建设民主测评表';
    const figures = [`${A} 把握政治方向：票数合计不等于有效票 5`, `${A} 把握政治方向 好：显示 0.1%，2/5 应为 40.0%`, `${A} 把握政治方向 差：显示 0.0%，1/5 应为 20.0%`, `${A} 夯实政治根基：票数合计不等于有效票 5`];
    expect(check(v, 'figures')).toEqual({
      id: 'figures', ok: false,
      zh: `存档中的数字与票数不符：${figures.join('；')}`,
      en: `figures in the file disagree with their counts: ${figures.join('; ')}`,
    });
  });

  it('every ballot on paper and every voter present: the turnout chain holds at its equalities', () => {
    const v = verifyMeetingArchive(signed((r) => {
      r.turnout.paper = 5; r.turnout.paperIssued = 5; r.turnout.present = 7;
      r.roster.present = 7; r.roster.categories[0]!.present = 5;
      r.results.turnout = r.turnout;
    }));
    expect(failed(v)).toEqual([]);
    expect(check(v, 'turnout').zh).toBe('纸质票 5 ≤ 收回 5 ≤ 发出 5 ≤ 实到 7，实到 ≤ 应到 7；纸质票 5 ≤ 发出纸质票 5');
  });
});

describe('a year archive at its edges', () => {
  const third = generateKeyPairSync('ed25519').privateKey;
  const entry = (a: SignedArchive, unitName: string, i: number) => ({ meetingId: i + 1, unitName, sealedAt: '2020-11-25T04:00:00.000Z', sha256: a.sha256 });
  const manifestOf = (entries: ReturnType<typeof entry>[]) => ({
    township: '插旗镇', year: 2020, campaign: '2020年度考察', campaignId: 1, exportedAt: '2020-12-01T00:00:00.000Z', meetings: entries,
  });

  it('a file that is not one, or whose manifest is malformed, is a year verification with no meetings or with its meetings', () => {
    expect(verifyYearArchive({ format: 'x' })).toMatchObject({ kind: 'year', ok: false, summary: null, fingerprint: null, meetings: [] });
    const a = signed();
    const y = signYearArchive(manifestOf([entry(a, '红旗村', 0)]), [a], key);
    const v = verifyYearArchive({ ...y, manifest: { ...y.manifest, year: 'x' } });
    expect(v).toMatchObject({ kind: 'year', ok: false, summary: null });
    expect(v.meetings.map((m) => m.ok)).toEqual([true]);
  });

  it('a manifest that lists one meeting twice is not complete', () => {
    const a = signed();
    const v = verifyYearArchive(signYearArchive(manifestOf([entry(a, '红旗村', 0), entry(a, '红旗村', 1)]), [a], key));
    expect(check(v, 'complete')).toEqual({ id: 'complete', ok: false, zh: '档案与清单不符：缺少 无，多出 0 个，重复 0 个', en: 'archives do not match the manifest: 0 missing, 0 unlisted, 0 duplicated' });
    expect(v.ok).toBe(false);
  });

  it('names every missing meeting', () => {
    const a = signed(); const b = signed((r) => { r.meeting.id = 4; }); const c = signed((r) => { r.meeting.id = 5; });
    const v = verifyYearArchive(signYearArchive(manifestOf([entry(a, '红旗村', 0), entry(b, '东风村', 1)]), [c], key));
    expect(check(v, 'complete').zh).toBe('档案与清单不符：缺少 红旗村、东风村，多出 1 个，重复 0 个');
  });

  it('a manifest changed after signing: no key is named, so no meeting is compared with it', () => {
    const a = signed();
    const y = signYearArchive(manifestOf([entry(a, '红旗村', 0)]), [a], key);
    const v = verifyYearArchive({ ...y, manifest: { ...y.manifest, campaign: '别的考察' } });
    expect(v.checks.map((c) => [c.id, c.ok])).toEqual([['hash', false], ['signature', false], ['complete', true], ['consistent', true]]);
    expect(v.fingerprint).toBeNull();
    expect(v.ok).toBe(false);
  });

  it('names each other key once, and one failed meeting of two fails the year', () => {
    const x = signed(() => {}, other); const y = signed((r) => { r.meeting.id = 4; }, third); const z = signed((r) => { r.meeting.id = 5; }, other);
    const v = verifyYearArchive(signYearArchive(manifestOf([entry(x, '红旗村', 0), entry(y, '红旗村', 1), entry(z, '红旗村', 2)]), [x, y, z], key));
    expect(check(v, 'same-key').zh).toBe(`注意：3 个会议档案由另一密钥签名（${publicKeyInfo(other).fingerprint}、${publicKeyInfo(third).fingerprint}）`);
    const a = signed(); const b = signed((r) => { r.meeting.id = 4; });
    const bad = { ...b, signature: a.signature };
    const mixed = verifyYearArchive(signYearArchive(manifestOf([entry(a, '红旗村', 0), entry(b, '红旗村', 1)]), [a, bad], key));
    expect(mixed.meetings.map((m) => m.ok)).toEqual([true, false]);
    expect(mixed.checks.every((c) => c.ok)).toBe(true);
    expect(mixed.ok).toBe(false);
  });
});
