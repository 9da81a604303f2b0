// @vitest-environment jsdom
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { ABSTAIN, PaperDraft, splitNames, summarize } from '../../admin-ui/src/lib/paper.svelte.ts';
import PaperRatingPart from '../../admin-ui/src/components/PaperRatingPart.svelte';
import PaperOutcome from '../../admin-ui/src/components/PaperOutcome.svelte';
import type { RatingPart, RecommendPart } from '../../admin-ui/src/lib/types.ts';
import { makeForm } from '../factories/forms.ts';

afterEach(() => cleanup());

describe('a paper ballot being typed in', () => {
  const form = makeForm({ members: 4, candidates: 3 });
  const A = form.parts.find((p) => p.key === 'A') as RatingPart;
  const B = form.parts.find((p) => p.key === 'B') as RatingPart;
  const D = form.parts.find((p) => p.key === 'D') as RecommendPart;

  it('is valid blank (every subject 弃权) and sends only what was marked', () => {
    const draft = new PaperDraft(form);
    expect(draft.check.ok).toBe(true);
    draft.setGrade(A, A.subjects[0]!.key, A.grades[1]!.key);
    const pkg = draft.toPackage();
    expect(pkg.A).toEqual({ grades: { [A.subjects[0]!.key]: A.grades[1]!.key } });
    expect(draft.check.ok && draft.check.pkg.A).toEqual({ grades: Object.fromEntries(A.subjects.map((s, i) => [s.key, i === 0 ? A.grades[1]!.key : ABSTAIN])) });
    // The same grade again clears it.
    draft.setGrade(A, A.subjects[0]!.key, A.grades[1]!.key);
    expect(draft.gradeOf(A, A.subjects[0]!.key)).toBeUndefined();
  });

  it('a part over its quota or marked void counts as void, as the server will count it', () => {
    const draft = new PaperDraft(form);
    for (const s of B.subjects.filter((x) => x.member)) draft.setGrade(B, s.key, 'excellent');
    expect(draft.voidParts).toEqual(['B']);
    draft.setVoid(A, true);
    expect(draft.voidParts).toEqual(['A', 'B']);
    expect(draft.toPackage().A).toEqual({ void: true });
    draft.togglePick(D, D.candidates[0]!.key);
    draft.writeIns = { D: '田野、李明' };
    expect(draft.voidParts).toEqual(['A', 'B', 'D']);
    draft.reset();
    expect(draft.voidParts).toEqual([]);
  });

  it('says before submitting what each part will count as, with the rule in one sentence', () => {
    const draft = new PaperDraft(form);
    expect(draft.outcomes.A).toMatchObject({ outcome: 'abstain', label: '弃权' });
    for (const s of B.subjects.filter((x) => x.member)) draft.setGrade(B, s.key, 'excellent');
    expect(draft.outcomes.B).toMatchObject({ outcome: 'void', reason: 'OVER_QUOTA' });
    expect(draft.outcomes.B!.rule).toContain('最多可选 1 人，这张票选了 4 人');
    render(PaperOutcome, { props: { preview: draft.outcomes.B! } });
    const note = screen.getByTestId('paper-outcome');
    expect(note.textContent!.replace(/\s+/g, '')).toBe(`按废票计：${draft.outcomes.B!.rule}`.replace(/\s+/g, ''));
    cleanup();
    // A part counted as marked shows nothing.
    draft.reset();
    for (const s of B.subjects) draft.setGrade(B, s.key, 'competent');
    expect(draft.outcomes.B!.outcome).toBe('valid');
    render(PaperOutcome, { props: { preview: draft.outcomes.B! } });
    expect(screen.queryByTestId('paper-outcome')).toBeNull();
  });

  it('splits written-in names on the separators people use', () => {
    expect(splitNames('田野、李明，王 芳\n赵六')).toEqual(['田野', '李明', '王', '芳', '赵六']);
  });

  it('reads back as the second person checks it against the paper', () => {
    const draft = new PaperDraft(form);
    draft.setGrade(A, A.subjects[0]!.key, A.grades[0]!.key);
    draft.setVoid(B, true);
    draft.togglePick(D, D.candidates[1]!.key);
    draft.writeIns = { D: '田野' };
    const lines = summarize(form, draft.check.ok ? draft.check.pkg : {});
    expect(lines.find((l) => l.key === 'A')!.lines[0]).toBe(`${A.subjects[0]!.label}：${A.grades[0]!.label}`);
    expect(lines.find((l) => l.key === 'A')!.lines[1]).toContain('弃权');
    expect(lines.find((l) => l.key === 'B')).toMatchObject({ void: true, lines: ['整部分为废票'] });
    expect(lines.find((l) => l.key === 'D')!.lines).toEqual([`推荐：${D.candidates[1]!.name}、田野（另提）`]);
  });

  it('is typed from the keyboard: a digit picks a grade and moves on; 0 leaves it blank', async () => {
    const draft = new PaperDraft(form);
    render(PaperRatingPart, { props: { draft, part: A, onleave: () => {} } });
    const rows = screen.getAllByRole('row');
    expect(rows).toHaveLength(A.subjects.length);
    rows[0]!.focus();
    await fireEvent.keyDown(rows[0]!, { key: '2' });
    expect(draft.gradeOf(A, A.subjects[0]!.key)).toBe(A.grades[1]!.key);
    expect(document.activeElement).toBe(rows[1]);
    await fireEvent.keyDown(rows[1]!, { key: '0' });
    expect(draft.gradeOf(A, A.subjects[1]!.key)).toBeUndefined();
    expect(document.activeElement).toBe(rows[2]);
    await fireEvent.keyDown(rows[2]!, { key: 'ArrowUp' });
    expect(document.activeElement).toBe(rows[1]);
    // The chosen grade's button shows pressed.
    expect(screen.getAllByRole('button', { name: /较好/ })[0]!.getAttribute('aria-pressed')).toBe('true');
  });
});
