import { validatePackage, withoutControlsKeepingNoncharacters, type NormalizedPackage } from '../ballots/validate-package.ts';
import { computeResults, figureProblems, sumRows, tallyIncrements, type Results } from '../counting/tally.ts';
import type { BallotPackage } from '../forms/form.schemas.ts';
import { canonicalJson } from './canonical.ts';

import { sha256Hex } from './archive.build.ts';
import { normalizeFingerprint, verifyBytes } from './signing.ts';
import {
  ArchiveRecord, SignedArchive, YEAR_ARCHIVE_FORMAT, YearArchive, YearManifest,
  type ArchiveTurnout, type Check,
} from './archive.schemas.ts';
import type { z } from 'zod';

/**
 * Verification of archive files, with no I/O: the CLI, the import route and the seal itself (which
 * refuses to store an archive that does not verify) all call these. The recount uses the counting
 * module, the one owner of every counting rule.
 */

export interface VerifyOptions {
  /** The fingerprint printed on the reports; when given, a file signed by any other key fails. */
  expectedFingerprint?: string | undefined;
}

export interface MeetingSummary {
  township: string;
  year: number;
  unitName: string;
  unitKind: string;
  sealedAt: string;
  turnout: z.infer<typeof ArchiveTurnout>;
  ballots: number;
}

export interface MeetingVerification {
  kind: 'meeting';
  ok: boolean;
  summary: MeetingSummary | null;
  sha256: string | null;
  fingerprint: string | null;
  checks: Check[];
}

export interface YearVerification {
  kind: 'year';
  ok: boolean;
  summary: { township: string; year: number; campaign: string; exportedAt: string; meetings: number } | null;
  fingerprint: string | null;
  checks: Check[];
  meetings: MeetingVerification[];
}

export type Verification = MeetingVerification | YearVerification;

class Checks {
  readonly list: Check[] = [];
  add(id: string, ok: boolean, zh: string, en: string, warning = false): boolean {
    this.list.push({ id, ok, zh, en, ...(warning ? { warning: true } : {}) });
    return ok;
  }
  get ok(): boolean {
    return this.list.every((c) => c.ok || c.warning);
  }
}

function issuesText(error: z.ZodError): string {
  return error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Hash and signature of one sealed value (a record or a year manifest). Returns the signer's fingerprint when the signature holds. */
function checkSeal(c: Checks, value: unknown, sha256: string, signature: string, opts: VerifyOptions, what: { zh: string; en: string }): string | null {
  let bytes: Buffer;
  try {
    bytes = Buffer.from(canonicalJson(value), 'utf8');
  } catch (e) {
    c.add('hash', false, `${what.zh}无法规范化：${errorText(e)}`, `${what.en} cannot be canonicalized: ${errorText(e)}`);
    return null;
  }
  const actual = sha256Hex(bytes);
  c.add(
    'hash', actual === sha256,
    actual === sha256 ? `${what.zh} SHA-256 摘要一致` : `${what.zh} SHA-256 摘要不一致：文件记载 ${sha256}，实际 ${actual}`,
    actual === sha256 ? `${what.en} SHA-256 matches` : `${what.en} SHA-256 differs: file says ${sha256}, content hashes to ${actual}`,
  );
  const signer = (value as { signer?: { publicKeyPem?: unknown; fingerprint?: unknown } } | null)?.signer;
  const pem = typeof signer?.publicKeyPem === 'string' ? signer.publicKeyPem : '';
  const v = verifyBytes(pem, bytes, signature);
  if (!v.ok) {
    c.add('signature', false, `${what.zh}签名无效（${v.reason}）`, `${what.en} signature invalid (${v.reason})`);
    return null;
  }
  const stated = typeof signer?.fingerprint === 'string' ? signer.fingerprint : '';
  const fpOk = stated === v.fingerprint;
  c.add(
    'signature', fpOk,
    fpOk ? `${what.zh}签名有效（公钥指纹 ${v.fingerprint}）` : `${what.zh}签名有效，但记载的指纹 ${stated} 与公钥的指纹 ${v.fingerprint} 不符`,
    fpOk ? `${what.en} signature valid (key fingerprint ${v.fingerprint})` : `${what.en} signature valid, but the stated fingerprint ${stated} is not the key's ${v.fingerprint}`,
  );
  if (opts.expectedFingerprint !== undefined) {
    const expected = normalizeFingerprint(opts.expectedFingerprint);
    c.add(
      'key', expected === v.fingerprint,
      expected === v.fingerprint ? `签名公钥与指定指纹 ${expected} 一致` : `签名公钥指纹 ${v.fingerprint} 与指定的 ${expected} 不符：不是由该服务器签名`,
      expected === v.fingerprint ? `signing key matches the expected fingerprint ${expected}` : `signing key ${v.fingerprint} is not the expected ${expected}: not signed by that server`,
    );
  }
  return v.fingerprint;
}

// ---- differences between stored and recounted results, named for a reader ----

function labelOf(v: unknown): string | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as { title?: unknown; subject?: { label?: unknown }; name?: unknown; key?: unknown };
  for (const x of [o.title, o.subject?.label, o.name, o.key]) if (typeof x === 'string') return x;
  return null;
}

function diffValues(stored: unknown, recount: unknown, path: string, grades: { label: string }[] | null, out: string[]): void {
  if (out.length >= 50) return;
  // A member one side lacks is a difference to name (canonicalJson refuses undefined).
  if (stored !== undefined && recount !== undefined && canonicalJson(stored) === canonicalJson(recount)) return;
  if (Array.isArray(stored) && Array.isArray(recount)) {
    if (stored.length !== recount.length) {
      out.push(`${path}: 存档 ${stored.length} 项 / stored ${stored.length} items, 重新计票 ${recount.length} 项 / recount ${recount.length}`);
      return;
    }
    stored.forEach((s, i) => {
      const name = path.endsWith('.counts') || path.endsWith('.shares') ? (grades?.[i]?.label ?? String(i)) : (labelOf(s) ?? String(i));
      diffValues(s, recount[i], `${path}[${name}]`, grades, out);
    });
    return;
  }
  if (typeof stored === 'object' && stored !== null && typeof recount === 'object' && recount !== null && !Array.isArray(stored) && !Array.isArray(recount)) {
    const own = (stored as { grades?: unknown }).grades;
    const g = Array.isArray(own) ? (own as { label: string }[]) : grades;
    for (const k of new Set([...Object.keys(stored), ...Object.keys(recount)])) {
      diffValues((stored as Record<string, unknown>)[k], (recount as Record<string, unknown>)[k], `${path}.${k}`, g, out);
    }
    return;
  }
  out.push(`${path}: 存档 stored ${JSON.stringify(stored)}, 重新计票 recount ${JSON.stringify(recount)}`);
}

/** Results without the figures derived from the counts (shares, rates, flags, ranks): what a version 1 file is compared on. */
const DERIVED = new Set(['shares', 'abstainShare', 'rates', 'share', 'flags', 'rank', 'tied', 'rankText']);
function countsOnly(results: unknown): unknown {
  return JSON.parse(JSON.stringify(results ?? null, (k, v: unknown) => (DERIVED.has(k) ? undefined : v)));
}

// ---- one meeting ----

export function verifyMeetingArchive(value: unknown, opts: VerifyOptions = {}): MeetingVerification {
  const c = new Checks();
  const done = (summary: MeetingSummary | null, sha256: string | null, fingerprint: string | null): MeetingVerification =>
    ({ kind: 'meeting', ok: c.ok, summary, sha256, fingerprint, checks: c.list });

  const env = SignedArchive.safeParse(value);
  if (!env.success) {
    c.add('format', false, `不是 Ceping 会议档案文件：${issuesText(env.error)}`, `not a Ceping meeting archive: ${issuesText(env.error)}`);
    return done(null, null, null);
  }
  // Hash the record as it arrived, not zod's copy of it.
  const raw = (value as { record: Record<string, unknown> }).record;
  const fingerprint = checkSeal(c, raw, env.data.sha256, env.data.signature, opts, { zh: '档案', en: 'record' });

  const parsed = ArchiveRecord.safeParse(raw);
  if (!parsed.success) {
    c.add('record', false, `档案内容结构不正确：${issuesText(parsed.error)}`, `record structure is wrong: ${issuesText(parsed.error)}`);
    return done(null, env.data.sha256, fingerprint);
  }
  const record = parsed.data;
  const { form, turnout } = record;
  const rawBallots = raw.ballots as unknown[];
  const summary: MeetingSummary = {
    township: record.township, year: record.year, unitName: record.unit.name, unitKind: record.unit.kind,
    sealedAt: record.meeting.sealedAt, turnout, ballots: record.ballots.length,
  };

  // Each ballot must be a package the form accepts, already in normalized form (as its version normalized).
  const bad: string[] = [];
  record.ballots.forEach((b, i) => {
    try {
      const r = validatePackage(form, b as BallotPackage, 'paper');
      const stored = canonicalJson(rawBallots[i]);
      // A Ceping before 2026-12-01 kept noncharacters in free text that today's rule drops: a ballot it sealed
      // is in normalized form if it is under that rule.
      const older = () => {
        const o = validatePackage(form, b as BallotPackage, 'paper', withoutControlsKeepingNoncharacters);
        return o.ok && canonicalJson(o.pkg) === stored;
      };
      if (r.ok && canonicalJson(r.pkg) === stored) return;
      if (older()) return;
      if (!r.ok) bad.push(`#${i + 1}: ${r.problem.message}`);
      else bad.push(`#${i + 1}: 不是规范化的选票 / not a normalized package`);
    } catch (e) {
      bad.push(`#${i + 1}: ${errorText(e)}`);
    }
  });
  c.add(
    'ballots', bad.length === 0,
    bad.length === 0 ? `${record.ballots.length} 张选票均符合测评表` : `${bad.length} 张选票不符合测评表：${bad.slice(0, 3).join('；')}`,
    bad.length === 0 ? `all ${record.ballots.length} ballots fit the form` : `${bad.length} ballots do not fit the form: ${bad.slice(0, 3).join('; ')}`,
  );

  // Recount every ballot with the counting module and compare with the stored results.
  const legacy = record.version === 1;
  try {
    const rows = sumRows(record.ballots.flatMap((b) => tallyIncrements(form, b as NormalizedPackage)));
    const recount = computeResults(form, rows, turnout);
    const found: string[] = [];
    if (legacy) diffValues(countsOnly(raw.results), countsOnly(recount), 'results', null, found);
    else diffValues(raw.results, recount, 'results', null, found);
    // Name the counts that differ; the percentages and flags computed from them follow and only add noise.
    const derived = /\.(shares|abstainShare|rates|share|flags|rank|tied|rankText)\b/;
    const primary = found.filter((d) => !derived.test(d.split(': ')[0]!));
    const differences = (primary.length > 0 ? primary : found).slice(0, 6);
    c.add(
      'recount', differences.length === 0,
      differences.length === 0 ? '重新计票结果与存档结果一致' : `重新计票结果与存档结果不一致：${differences.join('；')}`,
      differences.length === 0 ? 'recount of the ballots matches the stored results' : `recount of the ballots differs from the stored results: ${differences.join('; ')}`,
    );
  } catch (e) {
    c.add('recount', false, `重新计票失败：${errorText(e)}`, `recount failed: ${errorText(e)}`);
  }

  // The displayed figures of the file against its own counts, as a 监票人 checks them with a calculator.
  if (legacy) {
    c.add(
      'figures', false,
      '第1版档案：其中的百分比按旧规则舍入（每行凑足100.0%），个别数字可能与「票数 ÷ 有效票，四舍五入」相差0.1个百分点；票数已逐张核对',
      'version 1 file: its percentages were apportioned so that each row sums to 100.0%, and may differ by 0.1 from each ratio rounded on its own; the counts were recounted',
      true,
    );
  } else {
    const problems = figureProblems(raw.results as Results);
    c.add(
      'figures', problems.length === 0,
      problems.length === 0
        ? '存档中的每个百分比都等于票数 ÷ 有效票（四舍五入保留一位小数），需进一步考察的标记和推荐名次都与票数一致'
        : `存档中的数字与票数不符：${problems.slice(0, 4).join('；')}`,
      problems.length === 0
        ? 'every percentage in the file equals its count ÷ valid ballots rounded half up to one decimal; review flags and ranks agree with the counts'
        : `figures in the file disagree with their counts: ${problems.slice(0, 4).join('; ')}`,
    );
  }

  const n = record.ballots.length;
  c.add(
    'returned', turnout.returned === n,
    `收回票数 ${turnout.returned} ${turnout.returned === n ? '=' : '≠'} 选票张数 ${n}`,
    `returned ${turnout.returned} ${turnout.returned === n ? 'equals' : 'differs from'} the ${n} ballots in the file`,
  );
  // 补发 (a reissued ticket) is one more issued than signed in; archives before Ceping 0.2 have none.
  const reissued = turnout.reissued ?? 0;
  const paperCap = turnout.paperIssued === undefined || turnout.paper <= turnout.paperIssued;
  const chain = turnout.paper <= turnout.returned && turnout.returned <= turnout.issued && turnout.issued <= turnout.present + reissued && turnout.present <= turnout.expected && paperCap;
  const plus = reissued > 0 ? ` + 补发 ${reissued}` : '';
  const plusEn = reissued > 0 ? ` + reissued ${reissued}` : '';
  const paperZh = turnout.paperIssued === undefined ? '' : `；纸质票 ${turnout.paper} ≤ 发出纸质票 ${turnout.paperIssued}`;
  const paperEn = turnout.paperIssued === undefined ? '' : `; paper ${turnout.paper} ≤ paper forms issued ${turnout.paperIssued}`;
  c.add(
    'turnout', chain,
    `纸质票 ${turnout.paper} ≤ 收回 ${turnout.returned} ≤ 发出 ${turnout.issued} ≤ 实到 ${turnout.present}${plus}，实到 ≤ 应到 ${turnout.expected}${paperZh}${chain ? '' : '：不成立'}`,
    `paper ${turnout.paper} ≤ returned ${turnout.returned} ≤ issued ${turnout.issued} ≤ present ${turnout.present}${plusEn}, present ≤ expected ${turnout.expected}${paperEn}${chain ? '' : ': does not hold'}`,
  );
  const cats = record.roster.categories;
  const rosterOk = record.roster.expected === turnout.expected && record.roster.present === turnout.present
    && cats.reduce((a, x) => a + x.expected, 0) === record.roster.expected && cats.reduce((a, x) => a + x.present, 0) === record.roster.present;
  c.add(
    'roster', rosterOk,
    rosterOk ? `签到名单人数（应到 ${record.roster.expected}、实到 ${record.roster.present}）与统计一致` : '签到名单人数与应到/实到人数不一致',
    rosterOk ? 'roster counts agree with expected/present' : 'roster counts disagree with expected/present',
  );
  return done(summary, env.data.sha256, fingerprint);
}

// ---- a whole year ----

export function verifyYearArchive(value: unknown, opts: VerifyOptions = {}): YearVerification {
  const c = new Checks();
  const env = YearArchive.safeParse(value);
  if (!env.success) {
    c.add('format', false, `不是 Ceping 年度档案文件：${issuesText(env.error)}`, `not a Ceping year archive: ${issuesText(env.error)}`);
    return { kind: 'year', ok: false, summary: null, fingerprint: null, checks: c.list, meetings: [] };
  }
  const raw = (value as { manifest: Record<string, unknown> }).manifest;
  const fingerprint = checkSeal(c, raw, env.data.sha256, env.data.signature, opts, { zh: '年度清单', en: 'year manifest' });
  const meetings = env.data.archives.map((a) => verifyMeetingArchive(a, opts));
  const parsed = YearManifest.safeParse(raw);
  if (!parsed.success) {
    c.add('manifest', false, `年度清单结构不正确：${issuesText(parsed.error)}`, `year manifest structure is wrong: ${issuesText(parsed.error)}`);
    return { kind: 'year', ok: false, summary: null, fingerprint, checks: c.list, meetings };
  }
  const m = parsed.data;

  // The file holds exactly the meetings its signed manifest lists: none dropped, none added.
  const listed = new Map(m.meetings.map((x) => [x.sha256, x]));
  const present = meetings.map((v) => v.sha256);
  const missing = m.meetings.filter((x) => !present.includes(x.sha256));
  const extra = meetings.filter((v) => !v.sha256 || !listed.has(v.sha256));
  const dupes = present.length - new Set(present).size;
  const complete = missing.length === 0 && extra.length === 0 && dupes === 0 && listed.size === m.meetings.length;
  c.add(
    'complete', complete,
    complete ? `清单所列 ${m.meetings.length} 个会议档案齐全` : `档案与清单不符：缺少 ${missing.map((x) => x.unitName).join('、') || '无'}，多出 ${extra.length} 个，重复 ${dupes} 个`,
    complete ? `all ${m.meetings.length} meeting archives listed in the manifest are present` : `archives do not match the manifest: ${missing.length} missing, ${extra.length} unlisted, ${dupes} duplicated`,
  );
  const mismatched = meetings.filter((v) => {
    const entry = v.sha256 ? listed.get(v.sha256) : undefined;
    return v.summary && entry && (v.summary.township !== m.township || v.summary.year !== m.year || v.summary.unitName !== entry.unitName || v.summary.sealedAt !== entry.sealedAt);
  });
  c.add(
    'consistent', mismatched.length === 0,
    mismatched.length === 0 ? '各会议档案的乡镇、年度、单位与清单一致' : `${mismatched.length} 个会议档案的乡镇、年度或单位与清单不符`,
    mismatched.length === 0 ? 'township, year and unit of every meeting agree with the manifest' : `${mismatched.length} meeting archives disagree with the manifest`,
  );
  if (fingerprint) {
    const others = meetings.filter((v) => v.fingerprint && v.fingerprint !== fingerprint);
    // A server restored without its signing.key signs with a new one; say so, but the meeting files still stand on their own.
    c.add(
      'same-key', others.length === 0,
      others.length === 0 ? '所有会议档案与年度清单由同一密钥签名' : `注意：${others.length} 个会议档案由另一密钥签名（${[...new Set(others.map((v) => v.fingerprint))].join('、')}）`,
      others.length === 0 ? 'every meeting archive is signed by the manifest\'s key' : `note: ${others.length} meeting archives are signed by another key`,
      true,
    );
  }
  return {
    kind: 'year',
    ok: c.ok && meetings.every((v) => v.ok),
    summary: { township: m.township, year: m.year, campaign: m.campaign, exportedAt: m.exportedAt, meetings: m.meetings.length },
    fingerprint,
    checks: c.list,
    meetings,
  };
}

/** Verify any archive value: a year file when it says so, otherwise a meeting file. */
export function verifyArchiveValue(value: unknown, opts: VerifyOptions = {}): Verification {
  const isYear = typeof value === 'object' && value !== null && (value as { format?: unknown }).format === YEAR_ARCHIVE_FORMAT;
  return isYear ? verifyYearArchive(value, opts) : verifyMeetingArchive(value, opts);
}

/**
 * Verify a file's text. Beyond the value's checks, the text must be the file's canonical JSON (plus
 * one final newline) as Ceping writes it, so that no byte can change, not even one a parser forgives.
 */
export function verifyArchiveText(text: string, opts: VerifyOptions = {}): Verification {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return {
      kind: 'meeting', ok: false, summary: null, sha256: null, fingerprint: null,
      checks: [{ id: 'json', ok: false, zh: `文件不是有效的 JSON：${errorText(e)}`, en: `file is not valid JSON: ${errorText(e)}` }],
    };
  }
  const result = verifyArchiveValue(value, opts);
  let canonical: string | null = null;
  try {
    canonical = canonicalJson(value);
  } catch {
    // reported by the hash check already
  }
  const exact = canonical !== null && (text === canonical || text === `${canonical}\n`);
  result.checks.unshift({
    id: 'bytes', ok: exact,
    zh: exact ? '文件字节为规范格式' : '文件字节不是 Ceping 写出的规范格式（文件被改动或重新排版过）',
    en: exact ? 'file bytes are in canonical form' : 'file bytes are not the canonical form Ceping writes (edited or reformatted)',
  });
  result.ok = result.ok && exact;
  return result;
}
