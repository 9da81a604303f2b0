import type { Results } from './types.ts';
import { figureProblems } from '../../../server/counting/tally.ts';

export interface Check {
  label: string;
  ok: boolean;
  detail: string;
}

/**
 * The checks shown before sealing, read from the one computation the server made (the server refuses
 * to seal when its own checks fail; this page shows them so the team sees why the numbers can be trusted).
 */
export function finalChecks(r: Results): Check[] {
  const t = r.turnout;
  const checks: Check[] = [
    { label: '收回票数 ≤ 发出票数', ok: t.returned <= t.issued, detail: `收回 ${t.returned} 张，发出 ${t.issued} 张` },
  ];
  // 补发 (a ticket replaced after the phone that redeemed it failed) is one more issued than signed in.
  const reissued = t.reissued ?? 0;
  if (reissued > 0) checks.push({ label: '发出票数 ≤ 实到人数 + 补发', ok: t.issued <= t.present + reissued, detail: `发出 ${t.issued} 张，实到 ${t.present} 人，补发 ${reissued} 张` });
  else checks.push({ label: '发出票数 ≤ 实到人数', ok: t.issued <= t.present, detail: `发出 ${t.issued} 张，实到 ${t.present} 人` });
  checks.push({ label: '实到人数 ≤ 应到人数', ok: t.present <= t.expected, detail: `实到 ${t.present} 人，应到 ${t.expected} 人` });
  if (t.paperIssued !== undefined) {
    const paper = t.paper ?? 0;
    checks.push({ label: '纸质票 ≤ 发出纸质票', ok: paper <= t.paperIssued, detail: `收回纸质票 ${paper} 张，发出纸质票 ${t.paperIssued} 张` });
  }
  for (const p of r.parts) {
    checks.push({
      label: `${p.title}：有效票 + 废票 = 收回票数`,
      ok: p.valid + p.void === t.returned,
      detail: `有效 ${p.valid} + 废票 ${p.void} = ${p.valid + p.void}，收回 ${t.returned}`,
    });
    if (p.kind !== 'rating') continue;
    const bad = p.rows.filter((row) => row.counts.reduce((a, b) => a + b, 0) + row.abstain !== p.valid);
    checks.push({
      label: `${p.title}：每一行票数合计 = 有效票`,
      ok: bad.length === 0,
      detail: bad.length === 0 ? `${p.rows.length} 行，每行合计 ${p.valid} 票` : `${bad.map((b) => b.subject.label).join('、')} 的票数合计不等于 ${p.valid}`,
    });
  }
  // The displayed figures against their own counts, by the counting module's rule (the one the archive's verify applies).
  const problems = figureProblems(r);
  checks.push({
    label: '每个百分比 = 票数 ÷ 有效票（四舍五入保留一位小数），标记和名次与票数一致',
    ok: problems.length === 0,
    detail: problems.length === 0 ? '全部一致；因四舍五入，一行的百分比合计可能不等于100%' : problems.slice(0, 3).join('；'),
  });
  return checks;
}
