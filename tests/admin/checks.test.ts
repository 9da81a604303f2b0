import { describe, expect, it } from 'vitest';
import { finalChecks } from '../../admin-ui/src/lib/checks.ts';
import { computeResults, sumRows, tallyIncrements } from '../../server/counting/tally.ts';
import { validatePackage, type NormalizedPackage } from '../../server/ballots/validate-package.ts';
import { makeForm } from '../factories/forms.ts';
import { fullPackage } from '../helpers/packages.ts';

describe('the checks before sealing', () => {
  const form = makeForm({ members: 4, candidates: 3 });
  const ballots = Array.from({ length: 7 }, (_, i) => {
    const r = validatePackage(form, fullPackage(form, (i % 3) + 1), 'phone');
    if (!r.ok) throw new Error(r.problem.message);
    return r.pkg as NormalizedPackage;
  });
  const results = computeResults(form, sumRows(ballots.flatMap((b) => tallyIncrements(form, b))), { expected: 9, present: 8, issued: 8, returned: 7 });

  it('pass on the one computation the server made, naming each figure', () => {
    const checks = finalChecks(results);
    expect(checks.every((c) => c.ok)).toBe(true);
    expect(checks[0]).toEqual({ label: '收回票数 ≤ 发出票数', ok: true, detail: '收回 7 张，发出 8 张' });
    expect(checks.filter((c) => c.label.endsWith('每一行票数合计 = 有效票')).length).toBe(3);
    expect(checks.at(-1)!.label).toMatch(/^每个百分比 = 票数 ÷ 有效票/);
  });

  it('fail loudly when a figure does not add up', () => {
    const broken = structuredClone(results);
    broken.turnout.returned = 9;
    const part = broken.parts.find((p) => p.kind === 'rating')!;
    if (part.kind === 'rating') part.rows[0]!.shares[0]!.tenths += 1;
    const checks = finalChecks(broken);
    const bad = checks.filter((c) => !c.ok).map((c) => c.label);
    expect(bad).toContain('收回票数 ≤ 发出票数');
    expect(bad.some((l) => l.startsWith('每个百分比'))).toBe(true);
    expect(checks.find((c) => c.label.startsWith('每个百分比'))!.detail).toContain(part.title);
    expect(bad.some((l) => l.endsWith('有效票 + 废票 = 收回票数'))).toBe(true);
  });

  it('count a 补发 as one more issued than signed in, and keep paper ballots within the paper forms handed out', () => {
    const withReplacement = structuredClone(results);
    withReplacement.turnout = { ...withReplacement.turnout, present: 7, issued: 8, reissued: 1, paper: 2, paperIssued: 3 };
    const checks = finalChecks(withReplacement);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks).toContainEqual({ label: '发出票数 ≤ 实到人数 + 补发', ok: true, detail: '发出 8 张，实到 7 人，补发 1 张' });
    expect(checks).toContainEqual({ label: '纸质票 ≤ 发出纸质票', ok: true, detail: '收回纸质票 2 张，发出纸质票 3 张' });

    const tooMany = structuredClone(withReplacement);
    tooMany.turnout = { ...tooMany.turnout, issued: 9, paper: 4 };
    const bad = finalChecks(tooMany).filter((c) => !c.ok).map((c) => c.label);
    expect(bad).toEqual(['发出票数 ≤ 实到人数 + 补发', '纸质票 ≤ 发出纸质票']);

    const noReplacement = structuredClone(results);
    noReplacement.turnout = { ...noReplacement.turnout, issued: 9 };
    expect(finalChecks(noReplacement).filter((c) => !c.ok).map((c) => c.label)).toEqual(['发出票数 ≤ 实到人数']);
  });

  it('a row whose counts do not add up to the valid ballots fails its own check', () => {
    const broken = structuredClone(results);
    const part = broken.parts.find((p) => p.kind === 'rating')!;
    if (part.kind === 'rating') part.rows[1]!.counts[0]! += 1;
    const bad = finalChecks(broken).filter((c) => !c.ok).map((c) => c.label);
    expect(bad).toContain(`${part.title}：每一行票数合计 = 有效票`);
  });
});
