import { ABSTAIN, type Form, type Grade, type PartKey, type Scale, type Subject } from '../forms/form.schemas.ts';
import type { NormalizedPackage } from '../ballots/validate-package.ts';

/**
 * The one owner of every counting rule. Casting turns a ballot into counter increments; everything
 * that shows a figure (live tally, print view, spreadsheet, archive) reads computeResults() of those
 * counters, so no two outputs can disagree.
 */

/** One counter: (part, subject, grade). Part-level counters use subject '#'. */
export interface TallyRow {
  part: string;
  subject: string;
  grade: string;
  n: number;
}

export const PART_ROW = '#';
/** Counters about whole ballots use part '*'. */
export const BALLOT_ROW = '*';
export const WRITE_IN_PREFIX = 'w:';

/** The counters one ballot adds: each with n = 1. */
export function tallyIncrements(form: Form, pkg: NormalizedPackage): TallyRow[] {
  const rows: TallyRow[] = [];
  // A ballot is wholly valid when none of its parts is void (the "其中有效票" of the report).
  const anyVoid = form.parts.some((p) => { const a = pkg[p.key]; return !!a && 'void' in a; });
  rows.push({ part: BALLOT_ROW, subject: PART_ROW, grade: anyVoid ? 'void' : 'valid', n: 1 });
  for (const part of form.parts) {
    const answer = pkg[part.key];
    if (!answer) throw new CountingError(`ballot lacks part ${part.key}`);
    if ('void' in answer) {
      rows.push({ part: part.key, subject: PART_ROW, grade: 'void', n: 1 });
      continue;
    }
    rows.push({ part: part.key, subject: PART_ROW, grade: 'valid', n: 1 });
    if ('grades' in answer) {
      for (const s of (part.kind === 'rating' ? part.subjects : [])) {
        rows.push({ part: part.key, subject: s.key, grade: answer.grades[s.key] ?? ABSTAIN, n: 1 });
      }
    } else if ('picks' in answer) {
      for (const k of answer.picks) rows.push({ part: part.key, subject: k, grade: 'pick', n: 1 });
      for (const w of answer.writeIns) rows.push({ part: part.key, subject: WRITE_IN_PREFIX + w, grade: 'pick', n: 1 });
    } else if (answer.text !== '') {
      rows.push({ part: part.key, subject: PART_ROW, grade: 'comment', n: 1 });
    }
  }
  return rows;
}

/** Sum increments into counters (the same fold the database does with its upserts). */
export function sumRows(rows: Iterable<TallyRow>): TallyRow[] {
  const m = new Map<string, TallyRow>();
  for (const r of rows) {
    const k = `${r.part}\u0000${r.subject}\u0000${r.grade}`;
    const cur = m.get(k);
    if (cur) cur.n += r.n;
    else m.set(k, { ...r });
  }
  return [...m.values()];
}

export class CountingError extends Error {
  override name = 'CountingError';
}

// ---- results ----

/** A percentage held in tenths of a percent, so sums are exact; text has one decimal. */
export interface Percent {
  tenths: number;
  text: string;
}

export interface Turnout {
  /** 应到 */ expected: number;
  /** 实到 */ present: number;
  /** 发出 */ issued: number;
  /** 收回 */ returned: number;
  /** of which paper ballots */ paper?: number;
  /** paper forms handed out (paper ballots never exceed it) */ paperIssued?: number;
  /** 补发: tickets reissued to people whose phone failed after redeeming; each one more issued */ reissued?: number;
}

export type RowFlag = 'INCOMPETENT_OVER_THIRD' | 'COMPETENT_UNDER_TWO_THIRDS';

export interface RatingRow {
  subject: Subject;
  counts: number[];
  abstain: number;
  shares: Percent[];
  abstainShare: Percent;
  /** 好评率 (quality) or 优秀率/称职以上率/不称职率 (competence); null while there is no valid ballot. */
  rates: { good?: Percent; excellent?: Percent; competentOrBetter?: Percent; incompetent?: Percent } | null;
  flags: RowFlag[];
}

export interface RatingResult {
  kind: 'rating';
  key: PartKey;
  title: string;
  scale: Scale;
  grades: Grade[];
  abstainLabel: string;
  valid: number;
  void: number;
  rows: RatingRow[];
}

export interface RankedCandidate {
  name: string;
  listed: boolean;
  votes: number;
  share: Percent;
}

export interface RecommendResult {
  kind: 'recommend';
  key: PartKey;
  title: string;
  maxPicks: number;
  valid: number;
  void: number;
  ranking: RankedCandidate[];
}

export interface CommentResult {
  kind: 'comment';
  key: PartKey;
  title: string;
  valid: number;
  void: number;
  withText: number;
}

export type PartResult = RatingResult | RecommendResult | CommentResult;

export interface Results {
  turnout: Turnout;
  /** Ballots with no void part (有效票) and ballots with at least one (含废票). */
  ballots: { valid: number; void: number };
  parts: PartResult[];
}

export function formatTenths(tenths: number): string {
  return `${(tenths / 10).toFixed(1)}%`;
}

function percent(tenths: number): Percent {
  return { tenths, text: formatTenths(tenths) };
}

/** Rounded share of one count, half up, in tenths of a percent. */
export function shareTenths(count: number, total: number): number {
  if (total <= 0) return 0;
  return Math.floor((2000 * count + total) / (2 * total));
}

/**
 * Shares of a row in tenths that add up to exactly 1000 (largest remainder), so a printed row always
 * sums to 100.0%. Ties go to the earlier column.
 */
export function apportionTenths(counts: number[], total: number): number[] {
  if (total <= 0) return counts.map(() => 0);
  // Integer arithmetic: floating remainders such as 166.67 vs 666.67 differ in their last bits and would break ties.
  const base = counts.map((c) => Math.floor((1000 * c) / total));
  const rem = counts.map((c, i) => 1000 * c - base[i]! * total);
  let left = 1000 - base.reduce((a, b) => a + b, 0);
  const order = rem.map((r, i) => ({ i, r })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    base[i]! += 1;
    left -= 1;
  }
  return base;
}

function must(cond: boolean, message: string): void {
  if (!cond) throw new CountingError(message);
}

/** Compute every figure of a meeting from its counters. Throws CountingError when anything does not add up. */
export function computeResults(form: Form, rows: TallyRow[], turnout: Turnout): Results {
  must(turnout.returned <= turnout.issued, `收回 ${turnout.returned} > 发出 ${turnout.issued}`);
  must(turnout.issued <= turnout.present + (turnout.reissued ?? 0), `发出 ${turnout.issued} > 实到 ${turnout.present} + 补发 ${turnout.reissued ?? 0}`);
  if (turnout.paperIssued !== undefined) must((turnout.paper ?? 0) <= turnout.paperIssued, `纸质票 ${turnout.paper ?? 0} > 发出纸质票 ${turnout.paperIssued}`);
  const get = (part: string, subject: string, grade: string) =>
    rows.find((r) => r.part === part && r.subject === subject && r.grade === grade)?.n ?? 0;

  const ballots = { valid: get(BALLOT_ROW, PART_ROW, 'valid'), void: get(BALLOT_ROW, PART_ROW, 'void') };
  must(ballots.valid + ballots.void === turnout.returned, `ballots: valid ${ballots.valid} + void ${ballots.void} ≠ returned ${turnout.returned}`);
  const parts = form.parts.map((part): PartResult => {
    const valid = get(part.key, PART_ROW, 'valid');
    const voided = get(part.key, PART_ROW, 'void');
    must(valid + voided === turnout.returned, `part ${part.key}: valid ${valid} + void ${voided} ≠ returned ${turnout.returned}`);
    if (part.kind === 'comment') {
      return { kind: 'comment', key: part.key, title: part.title, valid, void: voided, withText: get(part.key, PART_ROW, 'comment') };
    }
    if (part.kind === 'recommend') {
      const listed = part.candidates.map((c) => ({ name: c.name, listed: true, votes: get(part.key, c.key, 'pick') }));
      const written = rows
        .filter((r) => r.part === part.key && r.subject.startsWith(WRITE_IN_PREFIX))
        .map((r) => ({ name: r.subject.slice(WRITE_IN_PREFIX.length), listed: false, votes: r.n }))
        .sort((a, b) => a.name.localeCompare(b.name, 'zh-Hans-CN'));
      const all = [...listed, ...written];
      const picks = all.reduce((a, c) => a + c.votes, 0);
      must(picks <= valid * part.maxPicks, `part ${part.key}: ${picks} picks exceed ${valid} × ${part.maxPicks}`);
      for (const c of all) must(c.votes <= valid, `part ${part.key}: ${c.name} has more votes than valid ballots`);
      const ranking = all
        .map((c, order) => ({ ...c, order, share: percent(shareTenths(c.votes, valid)) }))
        .sort((a, b) => b.votes - a.votes || a.order - b.order)
        .map(({ order: _o, ...c }) => c);
      return { kind: 'recommend', key: part.key, title: part.title, maxPicks: part.maxPicks, valid, void: voided, ranking };
    }
    const known = new Set([...part.grades.map((g) => g.key), ABSTAIN]);
    for (const r of rows) {
      if (r.part !== part.key || r.subject === PART_ROW) continue;
      must(part.subjects.some((s) => s.key === r.subject) && known.has(r.grade), `part ${part.key}: unknown counter ${r.subject}/${r.grade}`);
    }
    const resultRows = part.subjects.map((subject): RatingRow => {
      const counts = part.grades.map((g) => get(part.key, subject.key, g.key));
      const abstain = get(part.key, subject.key, ABSTAIN);
      must(counts.reduce((a, b) => a + b, 0) + abstain === valid, `part ${part.key} ${subject.label}: row does not add up to ${valid}`);
      const tenths = apportionTenths([...counts, abstain], valid);
      if (valid > 0) must(tenths.reduce((a, b) => a + b, 0) === 1000, `part ${part.key} ${subject.label}: shares do not add up to 100.0%`);
      const shares = tenths.slice(0, -1);
      const last = shares.length - 1;
      let rates: RatingRow['rates'] = null;
      const flags: RowFlag[] = [];
      if (valid > 0) {
        if (part.scale === 'quality') {
          rates = { good: percent(shares[0]! + shares[1]!) };
        } else {
          rates = {
            excellent: percent(shares[0]!),
            competentOrBetter: percent(shares[0]! + shares[1]!),
            incompetent: percent(shares[last]!),
          };
          // Exact integer comparisons: the review thresholds must not depend on rounding.
          if (subject.member && 3 * counts[last]! > valid) flags.push('INCOMPETENT_OVER_THIRD');
          if (subject.member && 3 * (counts[0]! + counts[1]!) < 2 * valid) flags.push('COMPETENT_UNDER_TWO_THIRDS');
        }
      }
      return {
        subject, counts, abstain,
        shares: shares.map(percent), abstainShare: percent(tenths[tenths.length - 1]!),
        rates, flags,
      };
    });
    return {
      kind: 'rating', key: part.key, title: part.title, scale: part.scale, grades: part.grades,
      abstainLabel: part.abstainLabel ?? '弃权', valid, void: voided, rows: resultRows,
    };
  });
  return { turnout, ballots, parts };
}
