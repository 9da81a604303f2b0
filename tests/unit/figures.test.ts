/**
 * The counting module's checks and edges, with every expected figure worked out by hand:
 * figureProblems (what archive verify and the pre-seal checks rely on) names each displayed figure
 * that disagrees with its counts, one tampered figure at a time; the review flags are a member's
 * alone; ties keep the list's order; an inconsistent turnout is refused saying which fact fails.
 */
import { describe, expect, it } from 'vitest';
import type { BallotPackage, BallotSource, Form } from '../../server/forms/form.schemas.ts';
import { validatePackage, type NormalizedPackage } from '../../server/ballots/validate-package.ts';
import {
  computeResults, CountingError, figureProblems, flagsText, percentTenths, reviewFlags, sumRows, tallyIncrements, topCandidates,
  type RatingResult, type RecommendResult, type Results, type Turnout,
} from '../../server/counting/tally.ts';
import { makeForm, recommendPart } from '../factories/forms.ts';

function count(form: Form, ballots: { pkg: BallotPackage; source?: BallotSource }[], turnout: Turnout): Results {
  return computeResults(form, sumRows(ballots.flatMap(({ pkg, source = 'phone' }) => {
    const c = validatePackage(form, pkg, source);
    if (!c.ok) throw new Error(c.problem.message);
    return tallyIncrements(form, c.pkg);
  })), turnout);
}
function paperPkg(pkg: BallotPackage): NormalizedPackage {
  const c = validatePackage(form, pkg, 'paper');
  if (!c.ok) throw new Error(c.problem.message);
  return c.pkg;
}
const rating = (r: Results, key: string) => r.parts.find((p) => p.key === key) as RatingResult;
const recommend = (r: Results) => r.parts.find((p) => p.key === 'D') as RecommendResult;

const form = makeForm({ members: 2, candidates: 3, parts: { B: { quotas: [] } } });
const [zhang, wang, li] = recommendPart(form).candidates.map((c) => c.key);
/**
 * Seven ballots, one column each. By hand:
 * - A 总体评价 (s6): 好 4, 较好 2, 一般 1 → 好评率 6/7 = 85.7%.
 * - B 班子集体: 优秀 1, 称职 2, 基本称职 1, 不称职 3 → 3/7 不称职, but the team is no member: no flags.
 * - B 张伟: 优秀 1, 称职 3, 不称职 3 → 优秀 14.3%, 不称职 42.9%, both flags.
 * - B 王伟: 称职 6, 不了解 1 → 不了解 14.3%, no flag.
 * - D: 张勇 3, 王勇 3, 李勇 1.
 */
const A6 = ['good', 'good', 'good', 'good', 'fair', 'fair', 'average'];
const TEAM = ['excellent', 'competent', 'competent', 'basic', 'incompetent', 'incompetent', 'incompetent'];
const M1 = ['excellent', 'competent', 'competent', 'competent', 'incompetent', 'incompetent', 'incompetent'];
const M2 = ['competent', 'competent', 'competent', 'competent', 'competent', 'competent', 'abstain'];
const D = () => [[zhang!], [zhang!, wang!], [zhang!, li!], [wang!], [wang!], [], []];
const seven = () => count(form, Array.from({ length: 7 }, (_, i) => ({
  pkg: {
    A: { grades: { s1: 'good', s2: 'good', s3: 'good', s4: 'good', s5: 'good', s6: A6[i]! } },
    B: { grades: { team: TEAM[i]!, m1: M1[i]!, m2: M2[i]! } },
    C: { grades: { s1: 'fair' } },
    D: { picks: D()[i]!, writeIns: [] },
    E: { text: '' },
  },
})), { expected: 9, present: 8, issued: 7, returned: 7 });

const B = '班子集体和成员年度考核民主测评表';

describe('figureProblems names each displayed figure that disagrees with its counts', () => {
  it('nothing in what was computed; the team row has no flags however it was rated', () => {
    const r = seven();
    expect(figureProblems(r)).toEqual([]);
    const b = rating(r, 'B');
    expect(b.rows[0]!.counts).toEqual([1, 2, 1, 3]);
    expect(b.rows[0]!.flags).toEqual([]);
    expect(b.rows[1]!.flags).toEqual(['INCOMPETENT_OVER_THIRD', 'COMPETENT_UNDER_TWO_THIRDS']);
    expect(rating(r, 'A').rows[5]!.flags).toEqual([]);
  });

  const cases: [string, (r: Results) => void, string[]][] = [
    ['a share\'s text', (r) => { rating(r, 'B').rows[1]!.shares[0] = { tenths: 143, text: '14.2%' }; }, [`${B} 张伟 优秀：显示 14.2%，1/7 应为 14.3%`]],
    ['a share\'s tenths', (r) => { rating(r, 'B').rows[1]!.shares[0] = { tenths: 142, text: '14.3%' }; }, [`${B} 张伟 优秀：显示 14.3%，1/7 应为 14.3%`]],
    ['a missing share', (r) => { rating(r, 'B').rows[1]!.shares.pop(); }, [`${B} 张伟 不称职：显示 undefined，3/7 应为 42.9%`]],
    ['a share of a grade the file does not name', (r) => {
      const b = rating(r, 'B');
      b.grades = b.grades.slice(0, 3);
      b.rows[1]!.shares[3] = { tenths: 0, text: '0.0%' };
    }, [`${B} 张伟 3：显示 0.0%，3/7 应为 42.9%`]],
    ['the 不了解 share', (r) => { rating(r, 'B').rows[2]!.abstainShare = { tenths: 142, text: '14.2%' }; }, [`${B} 王伟 不了解：显示 14.2%，1/7 应为 14.3%`]],
    ['a missing 不了解 share', (r) => { delete (rating(r, 'B').rows[2] as { abstainShare?: unknown }).abstainShare; }, [`${B} 王伟 不了解：显示 undefined，1/7 应为 14.3%`]],
    ['the count behind a rate', (r) => { rating(r, 'B').rows[1]!.rates!.excellent = { tenths: 143, text: '14.3%', count: 2, of: 7 }; }, [`${B} 张伟 优秀率：显示 14.3%，1/7 应为 14.3%`]],
    ['the total behind a rate', (r) => { rating(r, 'B').rows[1]!.rates!.incompetent = { tenths: 429, text: '42.9%', count: 3, of: 8 }; }, [`${B} 张伟 不称职率：显示 42.9%，3/7 应为 42.9%`]],
    ['称职以上率', (r) => { rating(r, 'B').rows[1]!.rates!.competentOrBetter = { tenths: 714, text: '71.4%', count: 5, of: 7 }; }, [`${B} 张伟 称职以上率：显示 71.4%，4/7 应为 57.1%`]],
    ['rates missing where there are valid ballots', (r) => { rating(r, 'B').rows[1]!.rates = null; }, [
      `${B} 张伟 优秀率：显示 undefined，1/7 应为 14.3%`, `${B} 张伟 称职以上率：显示 undefined，4/7 应为 57.1%`, `${B} 张伟 不称职率：显示 undefined，3/7 应为 42.9%`,
    ]],
    ['好评率', (r) => { rating(r, 'A').rows[5]!.rates!.good = { tenths: 850, text: '85.0%', count: 6, of: 7 }; }, ['党组织政治建设民主测评表 总体评价 好评率：显示 85.0%，6/7 应为 85.7%']],
    ['好评率 missing where there are valid ballots', (r) => { rating(r, 'A').rows[5]!.rates = null; }, ['党组织政治建设民主测评表 总体评价 好评率：显示 undefined，6/7 应为 85.7%']],
    ['a candidate\'s missing share', (r) => { delete (recommend(r).ranking[2] as { share?: unknown }).share; }, ['后备干部人选推荐表 李勇：得票率显示 undefined，1/7 应为 14.3%']],
    ['counts that do not add up', (r) => { rating(r, 'B').rows[2]!.abstain = 2; }, [`${B} 王伟：票数合计不等于有效票 7`, `${B} 王伟 不了解：显示 14.3%，2/7 应为 28.6%`]],
    ['a flag taken off a member', (r) => { rating(r, 'B').rows[1]!.flags = ['INCOMPETENT_OVER_THIRD']; }, [`${B} 张伟：需进一步考察的标记与票数不符`]],
    ['a flag put on the team', (r) => { rating(r, 'B').rows[0]!.flags = ['INCOMPETENT_OVER_THIRD']; }, [`${B} 班子集体：需进一步考察的标记与票数不符`]],
    ['a candidate\'s share', (r) => { recommend(r).ranking[2]!.share = { tenths: 142, text: '14.2%' }; }, ['后备干部人选推荐表 李勇：得票率显示 14.2%，1/7 应为 14.3%']],
    ['a ranking out of order', (r) => { recommend(r).ranking.reverse(); }, ['后备干部人选推荐表：王勇 的得票多于排在前面的人']],
    ['a rank number', (r) => { recommend(r).ranking[2]!.rank = 2; }, ['后备干部人选推荐表 李勇：名次显示 第3，按得票应为 第3']],
    ['a tie', (r) => { recommend(r).ranking[0]!.tied = false; }, ['后备干部人选推荐表 张勇：名次显示 并列第1，按得票应为 并列第1']],
    ['a rank text', (r) => { recommend(r).ranking[1]!.rankText = '第2'; }, ['后备干部人选推荐表 王勇：名次显示 第2，按得票应为 并列第1']],
  ];
  for (const [what, tamper, problems] of cases) {
    it(`finds ${what}, and nothing else`, () => {
      const r = seven();
      tamper(r);
      expect(figureProblems(r)).toEqual(problems);
    });
  }

  it('a part without valid ballots must have no rates', () => {
    const r = count(form, [{ source: 'paper', pkg: { B: { void: true } } }], { expected: 1, present: 1, issued: 1, returned: 1, paper: 1, paperIssued: 1 });
    expect(figureProblems(r)).toEqual([]);
    rating(r, 'B').rows[0]!.rates = { excellent: { tenths: 0, text: '0.0%', count: 0, of: 0 } } as never;
    expect(figureProblems(r)).toEqual([`${B} 班子集体：没有有效票却有比率`]);
  });
});

describe('the review flags', () => {
  it('only from a row of four grades with valid ballots', () => {
    expect(reviewFlags([0, 0, 0, 1], 0)).toEqual([]);
    expect(reviewFlags([1], 1)).toEqual([]);
    expect(reviewFlags([0, 0, 0, 1], 1)).toEqual(['INCOMPETENT_OVER_THIRD', 'COMPETENT_UNDER_TWO_THIRDS']);
  });

  it('in words, joined by 、 unless told otherwise', () => {
    expect(flagsText(['INCOMPETENT_OVER_THIRD', 'COMPETENT_UNDER_TWO_THIRDS'])).toBe('不称职票超过三分之一、优秀和称职票合计不足三分之二');
  });
});

describe('recommendations', () => {
  it('equal votes keep the list\'s order, written-in names after the listed ones; the top are every tied first', () => {
    const base = { A: { grades: { s1: 'good', s2: 'good', s3: 'good', s4: 'good', s5: 'good', s6: 'good' } }, B: { grades: { team: 'competent', m1: 'competent', m2: 'competent' } }, C: { grades: { s1: 'good' } }, E: { text: '' } };
    // Each name twice, picked in every order but the list's.
    const r = count(form, [[li!, wang!], [li!, zhang!], [wang!, zhang!]].map((picks) => ({ pkg: { ...base, D: { picks, writeIns: [] } } })), { expected: 3, present: 3, issued: 3, returned: 3 });
    const d = recommend(r);
    expect(d.ranking.map((c) => [c.name, c.votes, c.rankText])).toEqual([['张勇', 2, '并列第1'], ['王勇', 2, '并列第1'], ['李勇', 2, '并列第1']]);
    expect(topCandidates(d).map((c) => c.name)).toEqual(['张勇', '王勇', '李勇']);
    expect(topCandidates(recommend(seven())).map((c) => c.name)).toEqual(['张勇', '王勇']);
  });
});

describe('computeResults refuses an inconsistent meeting, saying which fact fails', () => {
  const one = () => sumRows(tallyIncrements(form, paperPkg({ B: { void: true } })));

  it('收回 > 发出, 纸质票 > 发出纸质票, ballots ≠ 收回', () => {
    expect(() => computeResults(form, one(), { expected: 1, present: 1, issued: 0, returned: 1 })).toThrow('收回 1 > 发出 0');
    expect(() => computeResults(form, one(), { expected: 1, present: 1, issued: 1, returned: 1, paper: 1, paperIssued: 0 })).toThrow('纸质票 1 > 发出纸质票 0');
    expect(() => computeResults(form, one(), { expected: 2, present: 2, issued: 2, returned: 2 })).toThrow('ballots: valid 0 + void 1 ≠ returned 2');
    expect(() => computeResults(form, one(), { expected: 1, present: 1, issued: 1, returned: 1, paper: 1, paperIssued: 1 })).not.toThrow();
  });

  it('names the part, the candidate and the counter', () => {
    const rows = () => sumRows(tallyIncrements(form, paperPkg({ D: { picks: [zhang!], writeIns: [] } })));
    const t = { expected: 1, present: 1, issued: 1, returned: 1 };
    const none = sumRows(tallyIncrements(form, paperPkg({})));
    expect(() => computeResults(form, [...none, { part: 'D', subject: zhang!, grade: 'pick', n: 2 }], t)).toThrow('part D: 张勇 has more votes than valid ballots');
    expect(() => computeResults(form, [...rows(), { part: 'D', subject: wang!, grade: 'pick', n: 1 }, { part: 'D', subject: li!, grade: 'pick', n: 1 }, { part: 'D', subject: 'w:田野', grade: 'pick', n: 1 }], t))
      .toThrow(/^part D: 4 picks exceed 1 × 2$/);
    expect(() => computeResults(form, [...rows(), { part: 'B', subject: 'm9', grade: 'competent', n: 1 }], t)).toThrow('part B: unknown counter m9/competent');
    expect(() => computeResults(form, [...rows(), { part: 'C', subject: 's1', grade: 'good', n: 1 }], t)).toThrow(/^part C .*: row does not add up to 1$/);
    expect(() => tallyIncrements(form, {})).toThrow(new CountingError('ballot lacks part A'));
    expect(() => percentTenths(-1, 7)).toThrow('not a count: -1/7');
  });
});
