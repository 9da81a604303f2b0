import type { Results } from './types.ts';

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
    { label: '发出票数 ≤ 实到人数', ok: t.issued <= t.present, detail: `发出 ${t.issued} 张，实到 ${t.present} 人` },
    { label: '实到人数 ≤ 应到人数', ok: t.present <= t.expected, detail: `实到 ${t.present} 人，应到 ${t.expected} 人` },
  ];
  for (const p of r.parts) {
    checks.push({
      label: `${p.title}：有效票 + 废票 = 收回票数`,
      ok: p.valid + p.void === t.returned,
      detail: `有效 ${p.valid} + 废票 ${p.void} = ${p.valid + p.void}，收回 ${t.returned}`,
    });
    if (p.kind !== 'rating' || p.valid === 0) continue;
    const bad = p.rows.filter(
      (row) =>
        row.counts.reduce((a, b) => a + b, 0) + row.abstain !== p.valid ||
        row.shares.reduce((a, s) => a + s.tenths, 0) + row.abstainShare.tenths !== 1000,
    );
    checks.push({
      label: `${p.title}：每一行合计 100.0%`,
      ok: bad.length === 0,
      detail: bad.length === 0 ? `${p.rows.length} 行全部合计 100.0%（${p.valid} 票）` : `${bad.map((b) => b.subject.label).join('、')} 不等于 100.0%`,
    });
  }
  return checks;
}
