/**
 * How a 监票人 checks the printed figures with a calculator, written without the counting module's
 * formulas: percentages by long division, digit by digit, rounded half up at the second decimal;
 * review thresholds by exact fractions; ranks by counting who has more votes. Tests compare every
 * displayed figure with these.
 */

/** count/total as a percentage with one decimal, e.g. "62.5%", by long division (half up). */
export function calculatorPercent(count: number, total: number): string {
  if (total === 0) return '0.0%';
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
  // Only the hundredths digit decides: what follows it can only make the remainder larger, never reach the next step.
  let tenths = whole * 10 + digits[0]!;
  if (digits[1]! >= 5) tenths += 1;
  return `${Math.floor(tenths / 10)}.${tenths % 10}%`;
}

/** The figure as tenths of a percent, read back from the calculator's text. */
export function calculatorTenths(count: number, total: number): number {
  return Math.round(Number(calculatorPercent(count, total).slice(0, -1)) * 10);
}

/** a/b compared with p/q exactly, in BigInt: -1, 0 or 1. */
function compareFractions(a: number, b: number, p: number, q: number): number {
  const l = BigInt(a) * BigInt(q);
  const r = BigInt(p) * BigInt(b);
  return l < r ? -1 : l > r ? 1 : 0;
}

/** The review rule of DOMAIN.md for a member's counts (best grade first, 不称职 last), from exact fractions. */
export function expectedFlags(counts: number[], valid: number): string[] {
  if (valid === 0) return [];
  const flags: string[] = [];
  if (compareFractions(counts[counts.length - 1]!, valid, 1, 3) > 0) flags.push('INCOMPETENT_OVER_THIRD');
  if (compareFractions(counts[0]! + counts[1]!, valid, 2, 3) < 0) flags.push('COMPETENT_UNDER_TWO_THIRDS');
  return flags;
}

/** 第n / 并列第n for each vote count (— without votes): one more than the number of people with more votes. */
export function expectedRankTexts(votes: number[]): string[] {
  return votes.map((v, i) => {
    if (v === 0) return '—';
    const above = votes.filter((x) => x > v).length;
    const tied = votes.some((x, j) => j !== i && x === v);
    return `${tied ? '并列' : ''}第${above + 1}`;
  });
}
