/**
 * What a typed paper package will count as, said before it is confirmed: the preview names 废票 and
 * 弃权 with the rule and this ballot's figures, and always agrees with how the package is counted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ABSTAIN, type BallotPackage } from '../../server/forms/form.schemas.ts';
import { previewPaper, type PaperPartPreview } from '../../server/ballots/paper-preview.ts';
import { validatePackage } from '../../server/ballots/validate-package.ts';
import { allGrades, arbForm, arbPaperPackage, makeForm, ratingPart, recommendPart } from '../factories/forms.ts';

const form = makeForm({ members: 5, candidates: 3 });
const B = ratingPart(form, 'B');
const D = recommendPart(form);

function parts(pkg: BallotPackage): Record<string, PaperPartPreview> {
  const p = previewPaper(form, pkg);
  if (!p.ok) throw new Error(p.problem.message);
  return Object.fromEntries(p.parts.map((x) => [x.part, x]));
}

describe('the paper preview', () => {
  it('a part over its 优秀 quota is 废票, with the quota and the count in one sentence', () => {
    // Five members, 优秀 at most 30%: one… of five is 1 (never rounded down to none).
    const p = parts({ B: { grades: { ...allGrades(B, 'competent'), [B.subjects[1]!.key]: 'excellent', [B.subjects[2]!.key]: 'excellent' } } });
    expect(p.B).toMatchObject({ outcome: 'void', reason: 'OVER_QUOTA', label: '废票' });
    expect(p.B!.rule).toBe('「优秀」最多可选 1 人，这张票选了 2 人：超过名额的部分整部分按废票计；其余部分照常计入。');
  });

  it('too many recommendations make part D 废票; none is 弃权', () => {
    const over = parts({ D: { picks: D.candidates.slice(0, 2).map((c) => c.key), writeIns: ['田野'] } });
    expect(over.D).toMatchObject({ outcome: 'void', reason: 'OVER_PICKS' });
    expect(over.D!.rule).toBe(`最多推荐 ${D.maxPicks} 人，这张票推荐了 3 人：超过限选人数的部分整部分按废票计；其余部分照常计入。`);
    // A written-in name that is on the list counts as that candidate: 2 people, within the limit.
    expect(parts({ D: { picks: [], writeIns: [D.candidates[0]!.name, '田野'] } }).D!.outcome).toBe('valid');
    const none = parts({ D: { picks: [], writeIns: [] } });
    expect(none.D).toMatchObject({ outcome: 'abstain', reason: 'BLANK', label: '弃权', rule: '没有推荐任何人：仍是有效票，计为弃权（不推荐任何人）。' });
  });

  it('a blank rating part is 弃权, counted as 不了解 for every subject; a partly blank one says how many', () => {
    const p = parts({});
    expect(p.A).toMatchObject({ outcome: 'abstain', reason: 'BLANK', label: '弃权' });
    expect(p.A!.rule).toBe(`整部分空白：仍是有效票，${ratingPart(form, 'A').subjects.length} 项都计为「不了解」（弃权）。`);
    expect(p.E).toMatchObject({ outcome: 'valid', rule: '' });
    const some = parts({ B: { grades: { ...allGrades(B, 'competent'), [B.subjects[3]!.key]: ABSTAIN } } });
    expect(some.B).toMatchObject({ outcome: 'partly-abstain', rule: '1 项空白：空白的一项计为「不了解」（弃权），仍是有效票。' });
    const noLabel = makeForm({ only: ['B'], parts: { B: { abstainLabel: null } } });
    const q = previewPaper(noLabel, {});
    expect(q.ok && q.parts[0]!.rule).toContain('都计为「弃权」');
  });

  it('a part marked void says so; a normalized package no longer knows why', () => {
    expect(parts({ C: { void: true } }).C).toMatchObject({ outcome: 'void', reason: 'MARKED_VOID' });
    const n = previewPaper(form, { C: { void: true } }, { normalized: true });
    expect(n.ok && n.parts.find((x) => x.part === 'C')).toMatchObject({ outcome: 'void', reason: 'VOID' });
  });

  it('refuses what validatePackage refuses, with its message', () => {
    const p = previewPaper(form, { D: { picks: ['nobody'], writeIns: [] } });
    expect(p.ok).toBe(false);
    expect(!p.ok && p.problem.message).toContain('不在名单中');
  });

  it('property: 废票 exactly when the part is counted void, 弃权 exactly when it is counted wholly blank', () => {
    fc.assert(
      fc.property(arbForm().chain((f) => fc.tuple(fc.constant(f), arbPaperPackage(f))), ([f, pkg]) => {
        const check = validatePackage(f, pkg, 'paper');
        const preview = previewPaper(f, pkg);
        expect(preview.ok).toBe(check.ok);
        if (!check.ok || !preview.ok) return;
        for (const part of f.parts) {
          const got = preview.parts.find((x) => x.part === part.key)!;
          const counted = check.pkg[part.key]!;
          expect(got.outcome === 'void', `${part.key}`).toBe('void' in counted);
          if ('grades' in counted && part.kind === 'rating') {
            const blank = part.subjects.filter((s) => counted.grades[s.key] === ABSTAIN).length;
            expect(got.outcome).toBe(blank === part.subjects.length ? 'abstain' : blank > 0 ? 'partly-abstain' : 'valid');
          }
          if ('picks' in counted) expect(got.outcome).toBe(counted.picks.length + counted.writeIns.length === 0 ? 'abstain' : 'valid');
          if (got.outcome !== 'valid') expect(got.rule.length).toBeGreaterThan(10);
        }
      }),
      { numRuns: 300 },
    );
  });
});
