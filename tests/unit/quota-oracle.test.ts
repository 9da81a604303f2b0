import { describe, expect, it } from 'vitest';
import { quotaLimit } from '../../server/ballots/validate-package.ts';
import { quotaCap } from '../helpers/quota.ts';
import { makeForm, ratingPart } from '../factories/forms.ts';

/**
 * The tests' quota cap (tests/helpers/quota.ts: whole-number counting over the typed decimal share)
 * and the server's (a floating-point floor with a tolerance) are written apart; they must agree on
 * every share a township types, in whole percent and in tenths, for teams of 1 to 30.
 */
describe('the quota cap, two ways', () => {
  it('agrees with the server for shares in steps of 0.5 %, caps of 0–5 and none, every team size', () => {
    const disagreements: string[] = [];
    for (let members = 1; members <= 30; members++) {
      const part = ratingPart(makeForm({ members }), 'B');
      for (let tenths = 0; tenths <= 1000; tenths += 5) {
        for (const max of [null, 0, 1, 2, 5]) {
          for (const scope of ['all', 'members'] as const) {
            const q = { grade: 'excellent', max, maxShare: tenths / 1000, scope };
            const a = quotaCap(part, q);
            const b = quotaLimit(part, q);
            if (a !== b) disagreements.push(`members ${members}, share ${tenths / 10}%, max ${max}, ${scope}: tests ${a}, server ${b}`);
          }
        }
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('follows the words of DOMAIN.md on hand-worked cases', () => {
    const part = ratingPart(makeForm({ members: 7 }), 'B'); // 班子集体 + 7 members
    const q = (maxShare: number | null, max: number | null = null, scope: 'all' | 'members' = 'members') => ({ grade: 'excellent', max, maxShare, scope });
    expect(quotaCap(part, q(0.15))).toBe(1); // 15 % of 7 = 1.05 → 1
    expect(quotaCap(part, q(0.3))).toBe(2); // 2.1 → 2
    expect(quotaCap(part, q(0.3, null, 'all'))).toBe(2); // 2.4 → 2
    expect(quotaCap(part, q(0.1))).toBe(1); // 0.7 → never to none
    expect(quotaCap(part, q(0))).toBe(0);
    expect(quotaCap(part, q(null, 3))).toBe(3);
    expect(quotaCap(part, q(1, 9))).toBe(7);
  });
});
