/** Percentiles and small formatting helpers for the bench's printed figures. */

/** The q-quantile (0..1) of `xs` by nearest rank; NaN for an empty list. */
export function quantile(xs: readonly number[], q: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface Spread {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function spread(xs: readonly number[]): Spread {
  return { n: xs.length, p50: quantile(xs, 0.5), p99: quantile(xs, 0.99), max: xs.length ? Math.max(...xs) : Number.NaN };
}

export function median(xs: readonly number[]): number {
  return quantile(xs, 0.5);
}

export const ms = (x: number): string => (Number.isFinite(x) ? `${x < 10 ? x.toFixed(1) : x.toFixed(0)} ms` : '—');
export const fmtSpread = (s: Spread): string => `p50 ${ms(s.p50)} · p99 ${ms(s.p99)} · max ${ms(s.max)} (n=${s.n})`;
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KiB`;
