import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeSlot, encodeSlot, slotBytes } from '../../server/ballots/slots.ts';
import { validatePackage } from '../../server/ballots/validate-package.ts';
import { makeForm } from '../factories/forms.ts';
import { standardTemplate } from '../../server/forms/standard-template.ts';
import { resolveForm } from '../../server/forms/resolve-form.ts';
import type { BallotPackage, Form } from '../../server/forms/form.schemas.ts';

/** Text as hostile as a keyboard, a paste or a crafted request can make it. */
const nasty = (max: number) =>
  fc.string({
    unit: fc.oneof(
      fc.constantFrom('"', '\\', '\n', '\t', '\u0000', '\u001f', '\u007f', '\u2028', '\ud83d', '\ude00', '😀', '测', '𠀀', 'a', ' '),
      fc.string({ unit: 'grapheme', maxLength: 1 }),
    ),
    maxLength: max,
  });

/** The largest package a form can take: every subject its longest grade, every pick, the longest texts. */
function worstPackages(form: Form): fc.Arbitrary<BallotPackage> {
  const parts = form.parts.map((p) => {
    if (p.kind === 'rating') {
      const longest = [...p.grades.map((g) => g.key)].sort((a, b) => b.length - a.length)[0]!;
      return fc.constant([p.key, { grades: Object.fromEntries(p.subjects.map((s) => [s.key, longest])) }] as const);
    }
    if (p.kind === 'recommend') return fc.array(nasty(30), { minLength: p.maxPicks, maxLength: p.maxPicks }).map((w) => [p.key, { picks: [], writeIns: w.map((x, i) => `${i}${x}`.slice(0, 30)) }] as const);
    return nasty(p.maxLength).map((text) => [p.key, { text }] as const);
  });
  return fc.tuple(...parts).map((entries) => Object.fromEntries(entries) as BallotPackage);
}

describe('ballot slots', () => {
  const standard = resolveForm(standardTemplate(), {
    name: '红旗村',
    members: Array.from({ length: 9 }, (_, i) => ({ id: i + 1, name: `成员${i}`, position: i === 0 ? '党支部书记' : '委员', isSecretary: i === 0 })),
    reserveCandidates: Array.from({ length: 12 }, (_, i) => `候选人${i}`),
  });

  for (const [name, form] of [['the standard form, 9 members', standard], ['a small form', makeForm({ members: 2, candidates: 1 })]] as const) {
    it(`every valid package of ${name} fits its slot, and reads back exactly`, () => {
      const size = slotBytes(form);
      fc.assert(
        fc.property(worstPackages(form), (input) => {
          const check = validatePackage(form, input, 'paper');
          if (!check.ok) return;
          const json = JSON.stringify(check.pkg);
          const body = encodeSlot(json, size);
          expect(body.length).toBe(size);
          expect(decodeSlot(body)).toBe(json);
        }),
        { numRuns: 300 },
      );
    });
  }

  it('drops control characters and lone surrogates from free text, keeping tab, newline and emoji', () => {
    const form = makeForm({ members: 1, candidates: 0 });
    const e = form.parts.find((p) => p.kind === 'comment')!;
    const check = validatePackage(form, { [e.key]: { text: 'a\u0000b\u0007c\td\ne\ud83d😀' } } as BallotPackage, 'paper');
    expect(check.ok && (check.pkg[e.key] as { text: string }).text).toBe('abc\td\ne😀');
  });

  it('refuses a body larger than the slot rather than cut it', () => {
    expect(() => encodeSlot('x'.repeat(64), 64)).toThrow(/does not fit/);
    expect(encodeSlot('x'.repeat(63), 64).length).toBe(64);
  });
});
