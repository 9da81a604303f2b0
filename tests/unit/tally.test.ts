import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ABSTAIN, type BallotPackage, type BallotSource, type Form } from '../../server/forms/form.schemas.ts';
import { validatePackage, type NormalizedPackage } from '../../server/ballots/validate-package.ts';
import {
  computeResults,
  CountingError,
  figureProblems,
  formatTenths,
  PART_ROW,
  percentTenths,
  sumRows,
  tallyIncrements,
  WRITE_IN_PREFIX,
  type RatingResult,
  type RecommendResult,
  type TallyRow,
  type Turnout,
} from '../../server/counting/tally.ts';
import { allGrades, makeForm, makePackage, ratingPart, recommendPart } from '../factories/forms.ts';

function normalize(form: Form, pkg: BallotPackage, source: BallotSource = 'phone'): NormalizedPackage {
  const check = validatePackage(form, pkg, source);
  if (!check.ok) throw new Error(check.problem.message);
  return check.pkg;
}

function turnoutFor(returned: number): Turnout {
  return { expected: returned + 2, present: returned + 1, issued: returned, returned };
}

function count(form: Form, pkgs: BallotPackage[], source: BallotSource = 'phone') {
  const rows = sumRows(pkgs.flatMap((p) => tallyIncrements(form, normalize(form, p, source))));
  return computeResults(form, rows, turnoutFor(pkgs.length));
}

function rating(results: ReturnType<typeof computeResults>, key: string): RatingResult {
  const p = results.parts.find((x) => x.key === key);
  if (!p || p.kind !== 'rating') throw new Error(`no rating result ${key}`);
  return p;
}

function recommend(results: ReturnType<typeof computeResults>, key = 'D'): RecommendResult {
  const p = results.parts.find((x) => x.key === key);
  if (!p || p.kind !== 'recommend') throw new Error(`no recommend result ${key}`);
  return p;
}

describe('formatTenths / percentTenths', () => {
  it('shows one decimal', () => {
    expect(formatTenths(333)).toBe('33.3%');
    expect(formatTenths(1000)).toBe('100.0%');
    expect(formatTenths(0)).toBe('0.0%');
    expect(formatTenths(5)).toBe('0.5%');
    expect(formatTenths(667)).toBe('66.7%');
  });

  it('property: the text is the tenths with one decimal, for every value 0..1000', () => {
    for (let t = 0; t <= 1000; t++) expect(formatTenths(t)).toBe(`${Math.floor(t / 10)}.${t % 10}%`);
  });

  it('rounds half up to a tenth of a percent: the cases a 监票人 found off by 0.1 with a calculator', () => {
    // Worked by hand: 45/72 = 62.5 exactly; 4/72 = 5.555…; 24/72 = 33.333…; 23/57 = 40.350…
    expect(percentTenths(5 + 40, 72)).toBe(625);
    expect(percentTenths(4, 72)).toBe(56);
    expect(percentTenths(24, 72)).toBe(333);
    expect(percentTenths(23, 57)).toBe(404);
    expect(percentTenths(1, 3)).toBe(333);
    expect(percentTenths(2, 3)).toBe(667);
    expect(percentTenths(1, 8)).toBe(125);
    expect(percentTenths(1, 16)).toBe(63); // 6.25% → 6.3%
    expect(percentTenths(1, 2000)).toBe(1); // 0.05% → 0.1%
    expect(percentTenths(1, 2001)).toBe(0); // 0.04998% → 0.0%
    expect(percentTenths(0, 5)).toBe(0);
    expect(percentTenths(5, 5)).toBe(1000);
    expect(percentTenths(3, 0)).toBe(0);
  });

  it('refuses what is not a count', () => {
    expect(() => percentTenths(0.5, 3)).toThrow(CountingError);
    expect(() => percentTenths(-1, 3)).toThrow(CountingError);
  });

  it('property: equals the half-up rounding of the exact decimal, done digit by digit as on paper', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.nat(), (total, c) => {
        const count = c % (total + 1);
        expect(percentTenths(count, total)).toBe(longDivisionTenths(count, total));
      }),
      { numRuns: 5000 },
    );
  });

  it('a row of shares may add up to 99.9% or 100.1%, and each share stays its own ratio', () => {
    const form = makeForm({ only: ['A'] });
    const a = ratingPart(form, 'A');
    const r = rating(count(form, [{ A: { grades: allGrades(a, 'good') } }, { A: { grades: allGrades(a, 'fair') } }, { A: { grades: allGrades(a, 'poor') } }]), 'A');
    const row = r.rows[0]!;
    expect([...row.shares, row.abstainShare].map((x) => x.text)).toEqual(['33.3%', '33.3%', '0.0%', '33.3%', '0.0%']);
    expect(row.rates!.good).toEqual({ tenths: 667, text: '66.7%', count: 2, of: 3 });
  });
});

/**
 * The calculator's way, independent of the code's integer formula: write out 100·count/total as a
 * decimal by long division to two places, then round the second place half up.
 */
function longDivisionTenths(count: number, total: number): number {
  let rest = count * 100;
  const whole = Math.floor(rest / total);
  rest -= whole * total;
  const digits: number[] = [];
  for (let i = 0; i < 2; i++) {
    rest *= 10;
    const d = Math.floor(rest / total);
    digits.push(d);
    rest -= d * total;
  }
  // After the hundredths digit, anything left over is strictly more than zero: rounding looks at that digit only.
  const tenths = whole * 10 + digits[0]!;
  return digits[1]! >= 5 ? tenths + 1 : tenths;
}

describe('tallyIncrements', () => {
  const form = makeForm({ members: 2, candidates: 2 });

  it('one valid counter per part, one per rating subject, one per pick, one per non-empty comment', () => {
    const d = recommendPart(form);
    const pkg = makePackage(form, {
      A: { grades: { ...allGrades(ratingPart(form, 'A'), 'good'), s6: ABSTAIN } },
      D: { picks: [d.candidates[1]!.key], writeIns: ['田野'] },
      E: { text: '建议' },
    });
    const rows = tallyIncrements(form, normalize(form, pkg));
    expect(rows.every((r) => r.n === 1)).toBe(true);
    for (const key of ['A', 'B', 'C', 'D', 'E']) {
      expect(rows.filter((r) => r.part === key && r.subject === PART_ROW && r.grade === 'valid')).toHaveLength(1);
    }
    expect(rows.filter((r) => r.part === 'A' && r.subject !== PART_ROW)).toHaveLength(6);
    expect(rows).toContainEqual({ part: 'A', subject: 's6', grade: ABSTAIN, n: 1 });
    expect(rows).toContainEqual({ part: 'A', subject: 's1', grade: 'good', n: 1 });
    expect(rows.filter((r) => r.part === 'B' && r.subject !== PART_ROW)).toHaveLength(3);
    expect(rows).toContainEqual({ part: 'D', subject: d.candidates[1]!.key, grade: 'pick', n: 1 });
    expect(rows).toContainEqual({ part: 'D', subject: `${WRITE_IN_PREFIX}田野`, grade: 'pick', n: 1 });
    expect(rows).toContainEqual({ part: 'E', subject: PART_ROW, grade: 'comment', n: 1 });
  });

  it('an empty comment adds no comment counter; a void part adds only its void counter', () => {
    const rows = tallyIncrements(form, normalize(form, { B: { void: true } }, 'paper'));
    expect(rows.filter((r) => r.part === 'B')).toEqual([{ part: 'B', subject: PART_ROW, grade: 'void', n: 1 }]);
    expect(rows.filter((r) => r.part === 'E')).toEqual([{ part: 'E', subject: PART_ROW, grade: 'valid', n: 1 }]);
  });

  it('throws CountingError for a package lacking a part', () => {
    const pkg = normalize(form, makePackage(form));
    delete pkg.C;
    expect(() => tallyIncrements(form, pkg)).toThrow(CountingError);
  });
});

describe('sumRows', () => {
  it('adds counters with the same (part, subject, grade) and keeps the others apart', () => {
    const rows: TallyRow[] = [
      { part: 'A', subject: 's1', grade: 'good', n: 1 },
      { part: 'A', subject: 's1', grade: 'good', n: 2 },
      { part: 'A', subject: 's1', grade: 'fair', n: 1 },
      { part: 'B', subject: 's1', grade: 'good', n: 1 },
    ];
    const sum = sumRows(rows);
    expect(sum).toHaveLength(3);
    expect(sum).toContainEqual({ part: 'A', subject: 's1', grade: 'good', n: 3 });
    expect(rows[0]!.n).toBe(1); // inputs untouched
  });

  it('does not confuse keys that only differ in where the separator falls', () => {
    const sum = sumRows([
      { part: 'D', subject: 'w:a', grade: 'pick', n: 1 },
      { part: 'D', subject: 'w:a:pick', grade: '', n: 1 },
    ]);
    expect(sum).toHaveLength(2);
  });

  it('property: order and grouping do not matter', () => {
    const row = fc.record({
      part: fc.constantFrom('A', 'B'),
      subject: fc.constantFrom('s1', 's2', PART_ROW),
      grade: fc.constantFrom('good', 'valid'),
      n: fc.integer({ min: 1, max: 3 }),
    });
    const canon = (rs: TallyRow[]) => rs.map((r) => `${r.part}|${r.subject}|${r.grade}|${r.n}`).sort();
    fc.assert(
      fc.property(fc.array(row), fc.array(row), (a, b) => {
        expect(canon(sumRows([...sumRows(a), ...sumRows(b)]))).toEqual(canon(sumRows([...b, ...a])));
      }),
    );
  });
});

describe('computeResults: review flags at the exact thresholds', () => {
  /** One member (no quota), nine ballots with these grades for the member. */
  function memberRow(marks: string[]) {
    const form = makeForm({ members: 1, only: ['B'], parts: { B: { quotas: [] } } });
    const b = ratingPart(form, 'B');
    const pkgs = marks.map((m) => ({ B: { grades: { team: 'competent', [b.subjects[1]!.key]: m } } }));
    const r = rating(count(form, pkgs), 'B');
    return { member: r.rows[1]!, collective: r.rows[0]! };
  }
  const rep = (m: string, k: number) => Array.from({ length: k }, () => m);

  it('3 不称职 of 9 is not over a third; 4 of 9 is', () => {
    expect(memberRow([...rep('competent', 6), ...rep('incompetent', 3)]).member.flags).toEqual([]);
    expect(memberRow([...rep('competent', 5), ...rep('basic', 0), ...rep('incompetent', 4)]).member.flags).toContain('INCOMPETENT_OVER_THIRD');
  });

  it('6 of 9 优秀+称职 is not under two thirds; 5 of 9 is', () => {
    expect(memberRow([...rep('excellent', 1), ...rep('competent', 5), ...rep('basic', 3)]).member.flags).toEqual([]);
    expect(memberRow([...rep('excellent', 1), ...rep('competent', 4), ...rep('basic', 4)]).member.flags).toEqual([
      'COMPETENT_UNDER_TWO_THIRDS',
    ]);
  });

  it('abstentions count in the denominator (valid ballots of the part)', () => {
    expect(memberRow([...rep('competent', 6), ...rep(ABSTAIN, 3)]).member.flags).toEqual([]);
    expect(memberRow([...rep('competent', 5), ...rep(ABSTAIN, 4)]).member.flags).toEqual(['COMPETENT_UNDER_TWO_THIRDS']);
  });

  it('both flags at once', () => {
    expect(memberRow([...rep('competent', 4), ...rep('incompetent', 5)]).member.flags).toEqual([
      'INCOMPETENT_OVER_THIRD',
      'COMPETENT_UNDER_TWO_THIRDS',
    ]);
  });

  it('the rates for 3 不称职 + 6 称职 of 9', () => {
    const { member } = memberRow([...rep('competent', 6), ...rep('incompetent', 3)]);
    expect(member.counts).toEqual([0, 6, 0, 3]);
    expect(member.rates).toEqual({
      excellent: { tenths: 0, text: '0.0%', count: 0, of: 9 },
      competentOrBetter: { tenths: 667, text: '66.7%', count: 6, of: 9 },
      incompetent: { tenths: 333, text: '33.3%', count: 3, of: 9 },
    });
  });

  it('quality parts have 好评率 and never flags', () => {
    const form = makeForm({ only: ['A'] });
    const a = ratingPart(form, 'A');
    const pkgs = [
      { A: { grades: allGrades(a, 'good') } },
      { A: { grades: allGrades(a, 'fair') } },
      { A: { grades: allGrades(a, 'poor') } },
    ];
    const r = rating(count(form, pkgs), 'A');
    for (const row of r.rows) {
      expect(row.rates).toEqual({ good: { tenths: 667, text: '66.7%', count: 2, of: 3 } });
      expect(row.flags).toEqual([]);
    }
    expect(r.abstainLabel).toBe('不了解');
  });

  it('no rates while there is no valid ballot', () => {
    const form = makeForm({ only: ['B'] });
    const r = rating(computeResults(form, [], turnoutFor(0)), 'B');
    expect(r.valid).toBe(0);
    for (const row of r.rows) {
      expect(row.rates).toBeNull();
      expect(row.flags).toEqual([]);
      expect(row.shares.every((s) => s.tenths === 0)).toBe(true);
    }
  });

  it('without an abstain label the result calls blanks 弃权', () => {
    const form = makeForm({ only: ['B'], parts: { B: { abstainLabel: null } } });
    expect(rating(computeResults(form, [], turnoutFor(0)), 'B').abstainLabel).toBe('弃权');
  });
});

describe('computeResults: recommendation ranking', () => {
  it('ranks by votes, listed names before write-ins on equal votes, shares of valid ballots', () => {
    const form = makeForm({ only: ['D'], candidates: 3, parts: { D: { maxPicks: 3 } } });
    const [c1, c2, c3] = recommendPart(form).candidates;
    const pkgs: BallotPackage[] = [
      { D: { picks: [c2!.key], writeIns: ['田野'] } },
      { D: { picks: [c2!.key, c3!.key], writeIns: ['田野'] } },
      { D: { picks: [], writeIns: [c3!.name, '韩梅梅'] } },
      { D: { picks: [], writeIns: [] } },
    ];
    const r = recommend(count(form, pkgs));
    expect(r.valid).toBe(4);
    expect(r.ranking.map((c) => [c.name, c.listed, c.votes, c.share.text, c.rankText])).toEqual([
      [c2!.name, true, 2, '50.0%', '并列第1'],
      [c3!.name, true, 2, '50.0%', '并列第1'],
      ['田野', false, 2, '50.0%', '并列第1'],
      ['韩梅梅', false, 1, '25.0%', '第4'],
      [c1!.name, true, 0, '0.0%', '—'],
    ]);
    expect(r.ranking.map((c) => [c.rank, c.tied])).toEqual([[1, true], [1, true], [1, true], [4, false], [null, false]]);
    expect(figureProblems(count(form, pkgs))).toEqual([]);
  });

  it('three candidates with 10 votes each all rank first', () => {
    const form = makeForm({ only: ['D'], candidates: 4, parts: { D: { maxPicks: 3 } } });
    const [c1, c2, c3, c4] = recommendPart(form).candidates;
    const pkgs: BallotPackage[] = [
      ...Array.from({ length: 10 }, () => ({ D: { picks: [c1!.key, c2!.key, c3!.key], writeIns: [] } })),
      ...Array.from({ length: 2 }, () => ({ D: { picks: [c4!.key], writeIns: [] } })),
    ];
    const r = recommend(count(form, pkgs));
    expect(r.ranking.map((c) => [c.name, c.votes, c.rank, c.rankText])).toEqual([
      [c1!.name, 10, 1, '并列第1'],
      [c2!.name, 10, 1, '并列第1'],
      [c3!.name, 10, 1, '并列第1'],
      [c4!.name, 2, 4, '第4'],
    ]);
  });
});

describe('figureProblems: the displayed figures against their counts', () => {
  const form = makeForm({ members: 3, parts: { B: { quotas: [] } } });
  const b = ratingPart(form, 'B');
  const pkgs = [0, 1, 2, 1, 1, 3, 1].map((g) => makePackage(form, { B: { grades: allGrades(b, b.grades[g]!.key) } }));
  const fresh = () => count(form, pkgs);

  it('finds nothing wrong in what computeResults made', () => {
    expect(figureProblems(fresh())).toEqual([]);
  });

  it('names a share, a rate, a flag and a rank that disagree with the counts', () => {
    const r = fresh();
    const part = rating(r, 'B');
    part.rows[1]!.shares[0] = { tenths: 143, text: '14.3%' };
    part.rows[1]!.shares[1] = { tenths: 572, text: '57.2%' }; // 4/7 = 57.142… → 57.1%
    expect(figureProblems(r)).toEqual([expect.stringContaining('显示 57.2%，4/7 应为 57.1%')]);
    part.rows[1]!.shares[1] = { tenths: 571, text: '57.1%' };
    part.rows[2]!.rates!.competentOrBetter = { tenths: 714, text: '71.4%', count: 6, of: 7 }; // the counts say 5 of 7
    expect(figureProblems(r)).toEqual([expect.stringContaining('称职以上率')]);
    const r2 = fresh();
    rating(r2, 'B').rows[2]!.flags = ['COMPETENT_UNDER_TWO_THIRDS'];
    expect(figureProblems(r2)).toEqual([expect.stringContaining('需进一步考察')]);
    const r3 = fresh();
    const d = recommend(r3);
    expect(d.ranking[0]!.rankText).toBe(rankOf(d, 0));
    d.ranking[0]!.rankText = '第9';
    expect(figureProblems(r3)).toEqual([expect.stringContaining(`名次显示 第9，按得票应为 ${rankOf(d, 0)}`)]);
  });

  it('reports a damaged structure instead of throwing', () => {
    const r = fresh();
    (rating(r, 'B').rows[0] as { counts: unknown }).counts = null;
    expect(figureProblems(r)[0]).toMatch(/结构不正确/);
  });
});

function rankOf(d: RecommendResult, i: number): string {
  const c = d.ranking[i]!;
  if (c.votes === 0) return '—';
  const rank = 1 + d.ranking.filter((o) => o.votes > c.votes).length;
  const tied = d.ranking.some((o, j) => j !== i && o.votes === c.votes);
  return `${tied ? '并列' : ''}第${rank}`;
}

describe('computeResults: consistency checks', () => {
  const form = makeForm({ members: 3 });
  const rows = (): TallyRow[] => sumRows([1, 2, 3].flatMap(() => tallyIncrements(form, normalize(form, makePackage(form)))));

  it('accepts a consistent meeting', () => {
    expect(() => computeResults(form, rows(), turnoutFor(3))).not.toThrow();
    expect(() => computeResults(form, rows(), { expected: 3, present: 3, issued: 3, returned: 3 })).not.toThrow();
  });

  it('throws when 收回 > 发出', () => {
    expect(() => computeResults(form, rows(), { expected: 9, present: 9, issued: 2, returned: 3 })).toThrow(CountingError);
  });

  it('throws when 发出 > 实到', () => {
    expect(() => computeResults(form, rows(), { expected: 9, present: 3, issued: 4, returned: 3 })).toThrow(CountingError);
  });

  it('throws when valid + void ≠ returned, for any part', () => {
    expect(() => computeResults(form, rows(), { expected: 9, present: 9, issued: 9, returned: 4 })).toThrow(CountingError);
    expect(() => computeResults(form, rows(), { expected: 9, present: 9, issued: 9, returned: 2 })).toThrow(CountingError);
    const lessE = rows().map((r) => (r.part === 'E' && r.grade === 'valid' ? { ...r, n: r.n - 1 } : r));
    expect(() => computeResults(form, lessE, turnoutFor(3))).toThrow(/part E/);
  });

  it('throws when a rating row does not add up to the valid ballots', () => {
    const extra = [...rows(), { part: 'A', subject: 's1', grade: 'good', n: 1 }];
    expect(() => computeResults(form, sumRows(extra), turnoutFor(3))).toThrow(CountingError);
  });

  it('throws on a counter for an unknown subject or grade', () => {
    expect(() => computeResults(form, [...rows(), { part: 'A', subject: 's99', grade: 'good', n: 1 }], turnoutFor(3))).toThrow(CountingError);
    expect(() => computeResults(form, [...rows(), { part: 'A', subject: 's1', grade: 'excellent', n: 1 }], turnoutFor(3))).toThrow(CountingError);
  });

  it('throws when recommendations exceed maxPicks per valid ballot or a name has more votes than ballots', () => {
    const d = recommendPart(form);
    const tooMany = [...rows(), { part: 'D', subject: d.candidates[0]!.key, grade: 'pick', n: 4 }];
    expect(() => computeResults(form, tooMany, turnoutFor(3))).toThrow(CountingError);
    const overPicks = [
      ...rows(),
      ...d.candidates.map((c) => ({ part: 'D', subject: c.key, grade: 'pick', n: 3 })),
    ];
    expect(() => computeResults(form, overPicks, turnoutFor(3))).toThrow(CountingError);
  });

  it('CountingError is an Error with its own name', () => {
    const e = new CountingError('x');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('CountingError');
  });
});
