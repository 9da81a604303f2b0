import { ABSTAIN, type Form, type Grade, type PartKey, type Scale, type Subject } from '../forms/form.schemas.ts';
import type { NormalizedPackage } from '../ballots/validate-package.ts';
import type { z } from 'zod';
import type * as S from './results.schemas.ts';

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

/**
 * The one rounding rule, said once for every output: each percentage is its own count ÷ the part's
 * valid ballots, rounded half up to one decimal. A row of shares therefore need not add up to 100.0%,
 * and every threshold is judged from the counts, never from a rounded share.
 */
export const ROUNDING_RULE = '每个百分比都按各自的票数 ÷ 该部分有效票计算，四舍五入保留一位小数；是否超过三分之一、是否不足三分之二等一律按票数精确判断，不按显示的百分比判断。';
/** The footnote under every table of shares. */
export const ROUNDING_NOTE = '因四舍五入，合计可能不等于100%。';

/** The result types are inferred from their schemas (results.schemas.ts), which the API description uses. */
export type Percent = z.infer<typeof S.Percent>;
/** A rate, with the counts it is the rounded ratio of, so any threshold can be judged exactly. */
export type Rate = z.infer<typeof S.Rate>;
export type Turnout = z.infer<typeof S.ResultsTurnout>;
export type RowFlag = z.infer<typeof S.RowFlag>;
export type RatingRow = z.infer<typeof S.RatingRow>;
export type RatingResult = z.infer<typeof S.RatingResult>;
export type RankedCandidate = z.infer<typeof S.RankedCandidate>;
export type RecommendResult = z.infer<typeof S.RecommendResult>;
export type CommentResult = z.infer<typeof S.CommentResult>;
export type PartResult = z.infer<typeof S.PartResult>;
export type Results = z.infer<typeof S.Results>;

/** The review flags in words, the same on the screen, the wall, the paper, the spreadsheet and the report. */
export const FLAG_TEXT: Record<RowFlag, string> = {
  INCOMPETENT_OVER_THIRD: '不称职票超过三分之一',
  COMPETENT_UNDER_TWO_THIRDS: '优秀和称职票合计不足三分之二',
};

/** A row's flags in words, in the order reviewFlags gives them. */
export function flagsText(flags: readonly RowFlag[], separator = '、'): string {
  return flags.map((f) => FLAG_TEXT[f]).join(separator);
}

export function formatTenths(tenths: number): string {
  return `${(tenths / 10).toFixed(1)}%`;
}

/**
 * count/total as tenths of a percent, rounded half up. Integers only: 1000·count = q·total + r, and
 * the half is judged as 2r ≥ total, so no floating-point quotient can land a hair below a .5.
 */
export function percentTenths(count: number, total: number): number {
  if (!Number.isSafeInteger(count) || !Number.isSafeInteger(total) || count < 0) throw new CountingError(`not a count: ${count}/${total}`);
  if (total <= 0) return 0;
  const scaled = 1000 * count;
  const r = scaled % total;
  const q = (scaled - r) / total;
  return 2 * r >= total ? q + 1 : q;
}

/** The displayed percentage of count out of total. */
export function percentOf(count: number, total: number): Percent {
  const tenths = percentTenths(count, total);
  return { tenths, text: formatTenths(tenths) };
}

function rateOf(count: number, total: number): Rate {
  return { ...percentOf(count, total), count, of: total };
}

/** The review flags of a team member's row, from the counts alone (1/3 and 2/3 compared exactly). */
export function reviewFlags(counts: number[], valid: number): RowFlag[] {
  const flags: RowFlag[] = [];
  if (valid <= 0 || counts.length < 2) return flags;
  if (3 * counts[counts.length - 1]! > valid) flags.push('INCOMPETENT_OVER_THIRD');
  if (3 * (counts[0]! + counts[1]!) < 2 * valid) flags.push('COMPETENT_UNDER_TWO_THIRDS');
  return flags;
}

/** Rank candidates already in display order (votes descending): equal votes share a rank. */
export function rankCandidates<T extends { votes: number }>(ordered: T[]): (T & Pick<RankedCandidate, 'rank' | 'tied' | 'rankText'>)[] {
  return ordered.map((c) => {
    if (c.votes <= 0) return { ...c, rank: null, tied: false, rankText: '—' };
    const rank = 1 + ordered.filter((o) => o.votes > c.votes).length;
    const tied = ordered.some((o) => o !== c && o.votes === c.votes);
    return { ...c, rank, tied, rankText: `${tied ? '并列' : ''}第${rank}` };
  });
}

/** The candidates with the most votes (all of them when tied); empty when nobody has a vote. */
export function topCandidates(part: RecommendResult): RankedCandidate[] {
  return part.ranking.filter((c) => c.rank === 1);
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
      const ranking = rankCandidates(
        all
          .map((c, order) => ({ ...c, order, share: percentOf(c.votes, valid) }))
          .sort((a, b) => b.votes - a.votes || a.order - b.order)
          .map(({ order: _o, ...c }) => c),
      );
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
      const last = counts.length - 1;
      let rates: RatingRow['rates'] = null;
      let flags: RowFlag[] = [];
      if (valid > 0) {
        rates = part.scale === 'quality'
          ? { good: rateOf(counts[0]! + counts[1]!, valid) }
          : { excellent: rateOf(counts[0]!, valid), competentOrBetter: rateOf(counts[0]! + counts[1]!, valid), incompetent: rateOf(counts[last]!, valid) };
        if (part.scale === 'competence' && subject.member) flags = reviewFlags(counts, valid);
      }
      return {
        subject, counts, abstain,
        shares: counts.map((c) => percentOf(c, valid)), abstainShare: percentOf(abstain, valid),
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

/**
 * Every displayed figure of a result checked against the rule applied to its own counts: each share,
 * rate, flag and rank. Empty when all agree. The archive's verify runs it on the stored figures (so a
 * file whose printed percentages were edited fails even if its counts were not), and the results page
 * shows it among the checks before sealing. The input may come from a file, so nothing is assumed.
 */
export function figureProblems(results: Results): string[] {
  const out: string[] = [];
  const same = (p: unknown, want: Percent | Rate): boolean => {
    const x = p as Partial<Rate> | null | undefined;
    return !!x && x.tenths === want.tenths && x.text === want.text && (!('count' in want) || (x.count === want.count && x.of === want.of));
  };
  try {
    for (const part of results.parts) {
      if (part.kind === 'rating') {
        for (const row of part.rows) {
          const who = `${part.title} ${row.subject.label}`;
          const valid = part.valid;
          if (row.counts.reduce((a, b) => a + b, 0) + row.abstain !== valid) out.push(`${who}：票数合计不等于有效票 ${valid}`);
          row.counts.forEach((c, i) => {
            const want = percentOf(c, valid);
            if (!same(row.shares[i], want)) out.push(`${who} ${part.grades[i]?.label ?? i}：显示 ${row.shares[i]?.text}，${c}/${valid} 应为 ${want.text}`);
          });
          const a = percentOf(row.abstain, valid);
          if (!same(row.abstainShare, a)) out.push(`${who} ${part.abstainLabel}：显示 ${row.abstainShare?.text}，${row.abstain}/${valid} 应为 ${a.text}`);
          const c = row.counts;
          const last = c.length - 1;
          const rates: [string, Rate | undefined, number][] =
            part.scale === 'quality'
              ? [['好评率', row.rates?.good, c[0]! + c[1]!]]
              : [['优秀率', row.rates?.excellent, c[0]!], ['称职以上率', row.rates?.competentOrBetter, c[0]! + c[1]!], ['不称职率', row.rates?.incompetent, c[last]!]];
          if (valid === 0) {
            if (row.rates !== null) out.push(`${who}：没有有效票却有比率`);
          } else {
            for (const [label, got, n] of rates) {
              const want = rateOf(n, valid);
              if (!same(got, want)) out.push(`${who} ${label}：显示 ${got?.text}，${n}/${valid} 应为 ${want.text}`);
            }
          }
          const flags = part.scale === 'competence' && row.subject.member ? reviewFlags(c, valid) : [];
          if (JSON.stringify(row.flags) !== JSON.stringify(flags)) out.push(`${who}：需进一步考察的标记与票数不符`);
        }
      } else if (part.kind === 'recommend') {
        const ranked = rankCandidates(part.ranking.map((c) => ({ votes: c.votes })));
        part.ranking.forEach((c, i) => {
          const want = percentOf(c.votes, part.valid);
          if (!same(c.share, want)) out.push(`${part.title} ${c.name}：得票率显示 ${c.share?.text}，${c.votes}/${part.valid} 应为 ${want.text}`);
          if (i > 0 && part.ranking[i - 1]!.votes < c.votes) out.push(`${part.title}：${c.name} 的得票多于排在前面的人`);
          const r = ranked[i]!;
          if (c.rank !== r.rank || c.tied !== r.tied || c.rankText !== r.rankText) out.push(`${part.title} ${c.name}：名次显示 ${c.rankText}，按得票应为 ${r.rankText}`);
        });
      }
    }
  } catch (e) {
    out.push(`结果的结构不正确：${e instanceof Error ? e.message : String(e)}`);
  }
  return out;
}
