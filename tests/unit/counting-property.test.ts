/**
 * The counting pipeline (validatePackage → tallyIncrements → sumRows → computeResults) against an
 * independent recount written here directly from the raw packages, for random forms and meetings that
 * mix phone and paper ballots (paper with blanks, explicit voids, over-quota and over-long parts).
 * Every displayed percentage is checked against a calculator's long division (tests/helpers/oracle.ts),
 * every flag against exact fractions, every rank against a count of who has more votes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ABSTAIN, type BallotPackage, type BallotSource, type Form, type RatingPart } from '../../server/forms/form.schemas.ts';
import { validatePackage } from '../../server/ballots/validate-package.ts';
import { computeResults, sumRows, tallyIncrements, type Results, type TallyRow } from '../../server/counting/tally.ts';
import { arbForm, arbPackage, arbPaperPackage, makeForm } from '../factories/forms.ts';
import { calculatorPercent, calculatorTenths, expectedFlags, expectedRankTexts } from '../helpers/oracle.ts';

interface Ballot {
  source: BallotSource;
  pkg: BallotPackage;
}

// ---------------------------------------------------------------- the independent recount

const squash = (s: string) => s.replace(/\s+/g, '');

/** The quota limit, from the rule as written: share of the subjects in scope, rounded down, at least one. */
function limitOf(part: RatingPart, q: RatingPart['quotas'][number]): number {
  const n = part.subjects.filter((s) => q.scope === 'all' || s.member).length;
  let limit = n;
  if (q.max !== null) limit = Math.min(limit, q.max);
  if (q.maxShare !== null) {
    // maxShare is a decimal such as 0.3 or 0.15: work in thousandths to stay exact.
    const perMille = Math.round(q.maxShare * 1000);
    const byShare = Math.floor((perMille * n) / 1000);
    limit = Math.min(limit, perMille > 0 ? Math.max(1, byShare) : 0);
  }
  return limit;
}

interface ExpectedRating {
  kind: 'rating';
  valid: number;
  void: number;
  counts: Map<string, number[]>;
  abstain: Map<string, number>;
}
interface ExpectedRecommend {
  kind: 'recommend';
  valid: number;
  void: number;
  votes: Map<string, number>; // candidate key → votes
  writeIns: Map<string, number>; // name → votes
}
interface ExpectedComment {
  kind: 'comment';
  valid: number;
  void: number;
  withText: number;
}
type Expected = ExpectedRating | ExpectedRecommend | ExpectedComment;

function recount(form: Form, ballots: Ballot[]): Expected[] {
  return form.parts.map((part): Expected => {
    if (part.kind === 'rating') {
      const e: ExpectedRating = {
        kind: 'rating', valid: 0, void: 0,
        counts: new Map(part.subjects.map((s) => [s.key, part.grades.map(() => 0)])),
        abstain: new Map(part.subjects.map((s) => [s.key, 0])),
      };
      for (const { pkg } of ballots) {
        const a = pkg[part.key];
        if (a && 'void' in a) { e.void++; continue; }
        const marks = a && 'grades' in a ? a.grades : {};
        const over = part.quotas.some(
          (q) => part.subjects.filter((s) => (q.scope === 'all' || s.member) && marks[s.key] === q.grade).length > limitOf(part, q),
        );
        if (over) { e.void++; continue; }
        e.valid++;
        for (const s of part.subjects) {
          const g = marks[s.key];
          const i = g === undefined || g === ABSTAIN ? -1 : part.grades.findIndex((x) => x.key === g);
          if (i < 0) e.abstain.set(s.key, e.abstain.get(s.key)! + 1);
          else e.counts.get(s.key)![i]! += 1;
        }
      }
      return e;
    }
    if (part.kind === 'recommend') {
      const e: ExpectedRecommend = { kind: 'recommend', valid: 0, void: 0, votes: new Map(part.candidates.map((c) => [c.key, 0])), writeIns: new Map() };
      for (const { pkg } of ballots) {
        const a = pkg[part.key];
        if (a && 'void' in a) { e.void++; continue; }
        const chosen = new Set<string>(); // 'c:<key>' or 'w:<name>'
        if (a && 'picks' in a) {
          for (const k of a.picks) chosen.add(`c:${k}`);
          for (const w of a.writeIns) {
            const listed = part.candidates.find((c) => squash(c.name) === squash(w));
            chosen.add(listed ? `c:${listed.key}` : `w:${squash(w)}`);
          }
        }
        if (chosen.size > part.maxPicks) { e.void++; continue; }
        e.valid++;
        for (const c of chosen) {
          if (c.startsWith('c:')) e.votes.set(c.slice(2), e.votes.get(c.slice(2))! + 1);
          else e.writeIns.set(c.slice(2), (e.writeIns.get(c.slice(2)) ?? 0) + 1);
        }
      }
      return e;
    }
    const e: ExpectedComment = { kind: 'comment', valid: 0, void: 0, withText: 0 };
    for (const { pkg } of ballots) {
      const a = pkg[part.key];
      if (a && 'void' in a) { e.void++; continue; }
      e.valid++;
      if (a && 'text' in a && a.text.trim() !== '') e.withText++;
    }
    return e;
  });
}

// ---------------------------------------------------------------- the pipeline

function pipeline(form: Form, ballots: Ballot[], order?: (rows: TallyRow[]) => TallyRow[]): Results {
  let inc: TallyRow[] = [];
  for (const b of ballots) {
    const check = validatePackage(form, b.pkg, b.source);
    if (!check.ok) throw new Error(`factory produced a refused ${b.source} package: ${check.problem.message}`);
    inc.push(...tallyIncrements(form, check.pkg));
  }
  if (order) inc = order(inc);
  const n = ballots.length;
  return computeResults(form, sumRows(inc), { expected: n + 5, present: n + 2, issued: n + 1, returned: n });
}

function compare(form: Form, ballots: Ballot[], results: Results): void {
  const expected = recount(form, ballots);
  expect(results.parts).toHaveLength(form.parts.length);
  form.parts.forEach((part, pi) => {
    const got = results.parts[pi]!;
    const exp = expected[pi]!;
    expect(got.key).toBe(part.key);
    expect(got.kind).toBe(exp.kind);
    expect([got.valid, got.void]).toEqual([exp.valid, exp.void]);
    expect(got.valid + got.void).toBe(ballots.length);

    if (got.kind === 'rating' && exp.kind === 'rating' && part.kind === 'rating') {
      expect(got.rows.map((r) => r.subject.key)).toEqual(part.subjects.map((s) => s.key));
      for (const row of got.rows) {
        const key = row.subject.key;
        const counts = exp.counts.get(key)!;
        const abstain = exp.abstain.get(key)!;
        expect(row.counts).toEqual(counts);
        expect(row.abstain).toBe(abstain);
        if (exp.valid === 0) {
          expect([...row.shares, row.abstainShare].every((x) => x.tenths === 0 && x.text === '0.0%')).toBe(true);
          expect(row.rates).toBeNull();
          expect(row.flags).toEqual([]);
          continue;
        }
        // Every displayed share is its own ratio rounded half up, as a calculator gives it; the row need not sum to 100.0%.
        [...counts, abstain].forEach((c, i) => {
          const shown = i < counts.length ? row.shares[i]! : row.abstainShare;
          expect(shown.text, `${part.key} ${key} column ${i}: ${c}/${exp.valid}`).toBe(calculatorPercent(c, exp.valid));
          expect(shown.tenths).toBe(calculatorTenths(c, exp.valid));
        });
        // Every rate likewise, from its own counts, carrying them.
        const last = part.grades.length - 1;
        const rate = (n: number) => ({ tenths: calculatorTenths(n, exp.valid), text: calculatorPercent(n, exp.valid), count: n, of: exp.valid });
        if (part.scale === 'quality') {
          expect(row.rates).toEqual({ good: rate(counts[0]! + counts[1]!) });
        } else {
          expect(row.rates).toEqual({ excellent: rate(counts[0]!), competentOrBetter: rate(counts[0]! + counts[1]!), incompetent: rate(counts[last]!) });
        }
        // Flags, from exact fractions of the recount.
        const flags = part.scale === 'competence' && row.subject.member ? expectedFlags(counts, exp.valid) : [];
        expect(row.flags).toEqual(flags);
      }
    }

    if (got.kind === 'recommend' && exp.kind === 'recommend' && part.kind === 'recommend') {
      const listed = part.candidates.map((c, order) => ({ name: c.name, listed: true, votes: exp.votes.get(c.key)!, order }));
      const written = [...exp.writeIns.entries()]
        .sort(([a], [b]) => a.localeCompare(b, 'zh-Hans-CN'))
        .map(([name, votes], i) => ({ name, listed: false, votes, order: listed.length + i }));
      const ranking = [...listed, ...written].sort((a, b) => b.votes - a.votes || a.order - b.order);
      expect(got.ranking.map((c) => [c.name, c.listed, c.votes])).toEqual(ranking.map((c) => [c.name, c.listed, c.votes]));
      for (const c of got.ranking) {
        expect(c.share.text).toBe(calculatorPercent(c.votes, exp.valid));
        expect(c.share.tenths).toBe(calculatorTenths(c.votes, exp.valid));
      }
      // Equal votes share a rank.
      expect(got.ranking.map((c) => c.rankText)).toEqual(expectedRankTexts(got.ranking.map((c) => c.votes)));
      // Ranked by votes, best first.
      for (let i = 1; i < got.ranking.length; i++) expect(got.ranking[i - 1]!.votes).toBeGreaterThanOrEqual(got.ranking[i]!.votes);
    }

    if (got.kind === 'comment' && exp.kind === 'comment') {
      expect(got.withText).toBe(exp.withText);
    }
  });
}

// ---------------------------------------------------------------- properties

function arbMeeting(phoneOnly = false): fc.Arbitrary<{ form: Form; ballots: Ballot[] }> {
  return arbForm().chain((form) =>
    fc.record({
      form: fc.constant(form),
      ballots: fc.array(
        phoneOnly
          ? arbPackage(form).map((pkg): Ballot => ({ source: 'phone', pkg }))
          : fc.oneof(
              arbPackage(form).map((pkg): Ballot => ({ source: 'phone', pkg })),
              arbPaperPackage(form).map((pkg): Ballot => ({ source: 'paper', pkg })),
            ),
        { maxLength: 40 },
      ),
    }),
  );
}

describe('counting pipeline = independent recount', () => {
  it('property: phone ballots only', () => {
    fc.assert(
      fc.property(arbMeeting(true), ({ form, ballots }) => compare(form, ballots, pipeline(form, ballots))),
      { numRuns: 150 },
    );
  });

  it('property: phone and paper ballots, with blanks, voids and over-quota parts', () => {
    fc.assert(
      fc.property(arbMeeting(), ({ form, ballots }) => compare(form, ballots, pipeline(form, ballots))),
      { numRuns: 200 },
    );
  });

  it('property: the order in which counters arrive does not matter', () => {
    fc.assert(
      fc.property(arbMeeting(), fc.integer(), ({ form, ballots }, seed) => {
        const shuffle = (rows: TallyRow[]) => {
          const out = [...rows];
          let s = seed >>> 0;
          for (let i = out.length - 1; i > 0; i--) {
            s = (Math.imul(s, 1103515245) + 12345) >>> 0;
            const j = s % (i + 1);
            [out[i], out[j]] = [out[j]!, out[i]!];
          }
          return out;
        };
        expect(pipeline(form, ballots, shuffle)).toEqual(pipeline(form, ballots));
      }),
      { numRuns: 100 },
    );
  });

  it('property: counting in two batches and adding the counters gives the same results', () => {
    fc.assert(
      fc.property(arbMeeting(), fc.nat(), ({ form, ballots }, cut) => {
        const k = ballots.length === 0 ? 0 : cut % (ballots.length + 1);
        const inc = (bs: Ballot[]) =>
          bs.flatMap((b) => {
            const c = validatePackage(form, b.pkg, b.source);
            if (!c.ok) throw new Error(c.problem.message);
            return tallyIncrements(form, c.pkg);
          });
        const merged = sumRows([...sumRows(inc(ballots.slice(0, k))), ...sumRows(inc(ballots.slice(k)))]);
        const n = ballots.length;
        const turnout = { expected: n, present: n, issued: n, returned: n };
        expect(computeResults(form, merged, turnout)).toEqual(computeResults(form, sumRows(inc(ballots)), turnout));
      }),
      { numRuns: 100 },
    );
  });

  it('a large standard meeting (80 ballots, 7 members) matches the recount', () => {
    const form = makeForm({ members: 7, candidates: 6 });
    fc.assert(
      fc.property(
        fc.array(fc.oneof(arbPackage(form).map((pkg): Ballot => ({ source: 'phone', pkg })), arbPaperPackage(form).map((pkg): Ballot => ({ source: 'paper', pkg }))), {
          minLength: 80,
          maxLength: 80,
        }),
        (ballots) => compare(form, ballots, pipeline(form, ballots)),
      ),
      { numRuns: 15 },
    );
  });
});
