import type { RatingPart } from '../../server/forms/form.schemas.ts';

/**
 * How many subjects in a quota's scope may get its grade on one ballot — worked out for the tests
 * from DOMAIN.md's words ("at most N, or P % of the subjects, rounded down but never to none"),
 * sharing nothing with server/ballots/validate-package.ts: the share is read as the decimal fraction
 * a township types (0.15 = 15/100, to six places), and the cap is found by counting up with whole
 * numbers instead of a floating-point floor.
 */
export function quotaCap(part: RatingPart, q: RatingPart['quotas'][number]): number {
  let inScope = 0;
  for (const s of part.subjects) if (q.scope === 'all' || s.member) inScope++;
  let cap = inScope;
  if (q.max !== null && q.max < cap) cap = q.max;
  if (q.maxShare !== null) {
    const [whole = '0', fraction = ''] = q.maxShare.toFixed(6).split('.');
    const numerator = Number(whole + fraction);
    const denominator = 10 ** fraction.length;
    let k = 0;
    while (k < inScope && (k + 1) * denominator <= numerator * inScope) k++;
    if (k === 0 && numerator > 0 && inScope > 0) k = 1;
    if (k < cap) cap = k;
  }
  return cap;
}
