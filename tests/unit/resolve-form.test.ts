import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../../server/errors.ts';
import { Form } from '../../server/forms/form.schemas.ts';
import { resolveForm, type UnitInput } from '../../server/forms/resolve-form.ts';
import { standardTemplate } from '../../server/forms/standard-template.ts';
import { makeTemplate, makeUnit, ratingPart, recommendPart } from '../factories/forms.ts';

const unit: UnitInput = {
  name: '桃花村',
  members: [
    { id: 7, name: '王芳', position: '村委会主任', isSecretary: false },
    { id: 3, name: '张伟', position: '村党支部书记', isSecretary: true },
    { id: 12, name: '李强', position: '委员', isSecretary: false },
  ],
  reserveCandidates: ['赵敏', '刘洋'],
};

function domainCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof DomainError) return e.code;
    throw e;
  }
  return undefined;
}

describe('resolveForm', () => {
  it('keeps the unit name and the template parts in order', () => {
    const form = resolveForm(standardTemplate(), unit);
    expect(form.unitName).toBe('桃花村');
    expect(form.parts.map((p) => `${p.key}:${p.kind}`)).toEqual(['A:rating', 'B:rating', 'C:rating', 'D:recommend', 'E:comment']);
    expect(Form.safeParse(form).success).toBe(true);
  });

  it('part A: one subject per static item, no subtitle, nobody is a member', () => {
    const a = ratingPart(resolveForm(standardTemplate(), unit), 'A');
    expect(a.subjects.map((s) => s.label)).toEqual(['把握政治方向', '夯实政治根基', '严肃政治生活', '提高政治能力', '严格政治自律', '总体评价']);
    expect(a.subjects.every((s) => !s.member && s.detail === null)).toBe(true);
    expect(a.subtitle).toBeNull();
    expect(a.grades.map((g) => g.label)).toEqual(['好', '较好', '一般', '差']);
    expect(a.abstainLabel).toBe('不了解');
  });

  it('part B: 班子集体 first, then every member in roster order with name and position', () => {
    const b = ratingPart(resolveForm(standardTemplate(), unit), 'B');
    expect(b.subjects.map((s) => [s.label, s.detail, s.member])).toEqual([
      ['班子集体', null, false],
      ['王芳', '村委会主任', true],
      ['张伟', '村党支部书记', true],
      ['李强', '委员', true],
    ]);
    expect(new Set(b.subjects.map((s) => s.key)).size).toBe(4);
    expect(b.quotas).toEqual([{ grade: 'excellent', max: null, maxShare: 0.3, scope: 'members' }]);
  });

  it('part B with criteria: 班子集体, then member × criterion, member-major', () => {
    const tpl = makeTemplate({ criteria: ['组织纪律', '工作态度'] });
    const b = ratingPart(resolveForm(tpl, unit), 'B');
    expect(b.subjects.map((s) => [s.label, s.detail, s.member])).toEqual([
      ['班子集体', null, false],
      ['组织纪律', '王芳（村委会主任）', true],
      ['工作态度', '王芳（村委会主任）', true],
      ['组织纪律', '张伟（村党支部书记）', true],
      ['工作态度', '张伟（村党支部书记）', true],
      ['组织纪律', '李强（委员）', true],
      ['工作态度', '李强（委员）', true],
    ]);
    expect(new Set(b.subjects.map((s) => s.key)).size).toBe(7);
  });

  it('part C: the subtitle names the secretary (wherever they are in the roster)', () => {
    const c = ratingPart(resolveForm(standardTemplate(), unit), 'C');
    expect(c.subtitle).toContain('张伟');
    expect(c.subtitle).toBe('村党支部书记：张伟');
    expect(c.subjects.map((s) => s.label)).toEqual(['总体评价']);
    expect(c.subjects.every((s) => !s.member)).toBe(true);
  });

  it('part D: candidates from the unit list, in order, with distinct keys', () => {
    const d = recommendPart(resolveForm(standardTemplate(), unit));
    expect(d.candidates.map((c) => c.name)).toEqual(['赵敏', '刘洋']);
    expect(new Set(d.candidates.map((c) => c.key)).size).toBe(2);
    expect(d).toMatchObject({ maxPicks: 2, allowWriteIn: true, title: '后备干部人选推荐表' });
    expect(d).not.toHaveProperty('source');
  });

  it('part D with no reserve candidates is still a part (write-ins only)', () => {
    const d = recommendPart(resolveForm(standardTemplate(), { ...unit, reserveCandidates: [] }));
    expect(d.candidates).toEqual([]);
  });

  it('rating parts carry no template source', () => {
    const form = resolveForm(standardTemplate(), unit);
    for (const p of form.parts) expect(p).not.toHaveProperty('source');
  });

  it('NO_SECRETARY when the unit has nobody marked as secretary', () => {
    const noSec = { ...unit, members: unit.members.map((m) => ({ ...m, isSecretary: false })) };
    expect(domainCode(() => resolveForm(standardTemplate(), noSec))).toBe('NO_SECRETARY');
    // Without a secretary part the same unit resolves.
    expect(domainCode(() => resolveForm(makeTemplate({ only: ['A', 'B', 'D', 'E'] }), noSec))).toBeUndefined();
  });

  it('NO_TEAM when the unit has no team members', () => {
    const empty = { ...unit, members: [] };
    expect(domainCode(() => resolveForm(makeTemplate({ only: ['B'] }), empty))).toBe('NO_TEAM');
    expect(domainCode(() => resolveForm(standardTemplate(), empty))).toBe('NO_TEAM');
    // A template without team or secretary parts does not need a team.
    expect(domainCode(() => resolveForm(makeTemplate({ only: ['A', 'D', 'E'] }), empty))).toBeUndefined();
  });

  it('DomainErrors carry the registry status and Chinese message', () => {
    try {
      resolveForm(makeTemplate({ only: ['B'] }), { ...unit, members: [] });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DomainError);
      expect((e as DomainError).status).toBe(409);
      expect((e as DomainError).message).toMatch(/班子成员/);
    }
  });

  it('does not change the template', () => {
    const tpl = standardTemplate();
    const copy = structuredClone(tpl);
    resolveForm(tpl, unit);
    expect(tpl).toEqual(copy);
  });

  it('property: every member appears once per criterion, keys are unique, the form is schema-valid', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 29 }),
        fc.option(fc.uniqueArray(fc.constantFrom('组织纪律', '工作态度', '财务制度', '工作业绩', '廉洁自律'), { minLength: 1, maxLength: 5 }), { nil: null }),
        (members, candidates, sec, criteria) => {
          const u = makeUnit({ members, candidates, secretaryIndex: sec % members });
          const form = resolveForm(makeTemplate({ criteria }), u);
          const b = ratingPart(form, 'B');
          const per = criteria ? criteria.length : 1;
          expect(b.subjects).toHaveLength(1 + members * per);
          expect(b.subjects[0]!.label).toBe('班子集体');
          for (const p of form.parts) {
            const keys = p.kind === 'rating' ? p.subjects.map((s) => s.key) : p.kind === 'recommend' ? p.candidates.map((c) => c.key) : [];
            expect(new Set(keys).size).toBe(keys.length);
          }
          u.members.forEach((m, i) => {
            const mine = b.subjects.slice(1 + i * per, 1 + (i + 1) * per);
            for (const s of mine) expect(criteria ? s.detail!.startsWith(m.name) : s.label === m.name).toBe(true);
          });
          expect(ratingPart(form, 'C').subtitle).toContain(u.members[sec % members]!.name);
          expect(Form.safeParse(form).success).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });
});
