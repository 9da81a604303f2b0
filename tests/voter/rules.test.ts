import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { sha256Hex } from '../../voter-ui/src/lib/sha256.ts';
import { checkSymbol, checkTypedCode, credentialFromHash, normalizeShortCode, CODE_ALPHABET } from '../../voter-ui/src/lib/credential.ts';
import * as serverSecrets from '../../server/credentials/secrets.ts';
import { quotaLimit as serverQuotaLimit, validatePackage } from '../../server/ballots/validate-package.ts';
import { answersFor, quotaLimit, toPackage, findProblems, quotaRefusal } from '../../voter-ui/src/lib/ballot-rules.ts';
import { arbForm, arbPackage, makeForm, ratingPart } from '../factories/forms.ts';
import type { Quota, RatingPart } from '../../server/forms/form.schemas.ts';

describe('sha256Hex (the draft key, without crypto.subtle)', () => {
  it('agrees with node:crypto on any text, Chinese and astral characters included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        expect(sha256Hex(s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
      }),
    );
    for (const s of ['', 'abc', 'a'.repeat(55), 'a'.repeat(56), 'a'.repeat(64), '民主测评😀'.repeat(40)]) {
      expect(sha256Hex(s)).toBe(createHash('sha256').update(s).digest('hex'));
    }
  });
});

describe('credentials', () => {
  const random = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + 11) % 256));

  it('checks short codes exactly as the server does', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...CODE_ALPHABET, '0', '1', 'l', '-', ' '), maxLength: 12 }), (s) => {
        expect(normalizeShortCode(s)).toBe(serverSecrets.normalizeShortCode(s));
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...CODE_ALPHABET), minLength: 7, maxLength: 7 }), (body) => {
        expect(checkSymbol(body)).toBe(serverSecrets.checkSymbol(body));
      }),
    );
  });

  it('accepts a typed code in any case, with or without the dash, and says what is wrong otherwise', () => {
    const code = serverSecrets.newShortCode(random);
    const shown = serverSecrets.formatShortCode(code).toLowerCase();
    expect(checkTypedCode(` ${shown} `)).toEqual({ ok: true, credential: code });
    expect(checkTypedCode('')).toEqual({ ok: false, message: '请输入测评码' });
    expect(checkTypedCode('ABC')).toMatchObject({ ok: false, message: expect.stringContaining('共 8 位') });
    expect(checkTypedCode('ABCD-EFG0')).toMatchObject({ ok: false, message: expect.stringContaining('「0」') });
    const wrong = code.slice(0, 7) + CODE_ALPHABET[(CODE_ALPHABET.indexOf(code[7]!) + 1) % CODE_ALPHABET.length];
    expect(checkTypedCode(wrong)).toMatchObject({ ok: false, message: expect.stringContaining('逐位核对') });
  });

  it('reads the token from the fragment', () => {
    const token = serverSecrets.newTicketSecret(random);
    expect(credentialFromHash(`#${token}`)).toBe(token);
    expect(credentialFromHash('#')).toBeNull();
    expect(credentialFromHash('#abc')).toBeNull();
    expect(credentialFromHash('#%E0%A4%A')).toBeNull();
  });

});

describe('ballot rules mirror the server', () => {
  it('computes every quota limit exactly as the server', () => {
    const arbQuota = fc.record({
      grade: fc.constant('excellent'),
      max: fc.option(fc.integer({ min: 0, max: 12 }), { nil: null }),
      maxShare: fc.option(fc.oneof(fc.constantFrom(0, 0.1, 0.15, 0.2, 0.3, 1 / 3, 0.5, 1), fc.double({ min: 0, max: 1, noNaN: true })), { nil: null }),
      scope: fc.constantFrom('all' as const, 'members' as const),
    });
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), arbQuota, (members, quota: Quota) => {
        const part = ratingPart(makeForm({ members }), 'B');
        expect(quotaLimit(part, quota)).toBe(serverQuotaLimit(part, quota));
      }),
    );
  });

  it('turns any complete set of answers into a package the server accepts', () => {
    fc.assert(
      fc.property(
        arbForm().chain((form) => fc.tuple(fc.constant(form), arbPackage(form))),
        ([form, pkg]) => {
          // Stored answers round-trip through the page's own checks unchanged...
          const answers = answersFor(form, JSON.parse(JSON.stringify(pkg)));
          expect(findProblems(form, answers)).toEqual([]);
          // ...and what the page sends passes the server's phone check.
          const sent = toPackage(form, answers);
          const check = validatePackage(form, sent, 'phone');
          expect(check.ok, JSON.stringify(check)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('names the first unanswered subject and refuses a grade over its quota', () => {
    const form = makeForm({ members: 5 });
    const answers = answersFor(form, {});
    const [first] = findProblems(form, answers);
    expect(first).toEqual({ part: 'A', subject: 's1', message: '「把握政治方向」还没有选择' });

    const b: RatingPart = ratingPart(form, 'B');
    // 30% of 5 members, rounded down: 1 优秀; the collective is outside the 'members' scope.
    const grades: Record<string, string> = { m1: 'excellent', team: 'excellent' };
    expect(quotaRefusal(b, grades, 'm2', 'excellent')).toContain('「优秀」最多可选 1 人，已经选满');
    expect(quotaRefusal(b, grades, 'm1', 'excellent')).toBeNull();
    expect(quotaRefusal(b, grades, 'm2', 'competent')).toBeNull();
  });

  it('drops stored answers that no longer fit the form', () => {
    const form = makeForm({ members: 5, candidates: 2 });
    const answers = answersFor(form, {
      A: { grades: { s1: 'good', s2: 'bogus', zz: 'good' } },
      B: { grades: { m1: 'excellent', m2: 'excellent', m3: 'competent' } },
      D: { picks: ['c1', 'c9', 'c1'], writeIns: ['田野', 5, '  '] },
      E: { text: 42 },
      Z: {},
    });
    expect(answers.A).toEqual({ grades: { s1: 'good' } });
    expect(answers.B).toEqual({ grades: { m2: 'excellent', m3: 'competent' } });
    expect(answers.D).toEqual({ picks: ['c1'], writeIns: ['田野'] });
    expect(answers.E).toEqual({ text: '' });
    expect(answersFor(form, 'garbage')).toEqual(answersFor(form, null));
  });
});
