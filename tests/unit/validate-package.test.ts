import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ABSTAIN, type BallotPackage, type Form, type Quota } from '../../server/forms/form.schemas.ts';
import { quotaLimit, validatePackage, type PackageCheck, type PackageProblem } from '../../server/ballots/validate-package.ts';
import {
  allGrades,
  arbForm,
  arbPackage,
  arbPaperPackage,
  makeForm,
  makePackage,
  makeUnit,
  randomValidPackage,
  ratingPart,
  recommendPart,
  seededRng,
} from '../factories/forms.ts';

function refused(check: PackageCheck): PackageProblem {
  if (check.ok) throw new Error(`expected a refusal, got ${JSON.stringify(check.pkg)}`);
  return check.problem;
}

function accepted(check: PackageCheck) {
  if (!check.ok) throw new Error(`expected acceptance, got ${check.problem.message}`);
  return check.pkg;
}

/** Part B grades: the collective and each member, by index (0 = 班子集体). */
function bGrades(form: Form, marks: string[]): Record<string, string> {
  const b = ratingPart(form, 'B');
  return Object.fromEntries(b.subjects.map((s, i) => [s.key, marks[i] ?? 'competent']));
}

describe('validatePackage (phone): completeness', () => {
  const form = makeForm({ members: 5, candidates: 3 });

  it('accepts a complete package and normalizes every part', () => {
    const pkg = accepted(validatePackage(form, makePackage(form), 'phone'));
    expect(Object.keys(pkg).sort()).toEqual(['A', 'B', 'C', 'D', 'E']);
    expect(pkg.E).toEqual({ text: '' });
    expect(pkg.D).toEqual({ picks: [], writeIns: [] });
  });

  it('refuses a missing rating part, naming it as 第二部分「…」', () => {
    const pkg = makePackage(form);
    delete pkg.B;
    const p = refused(validatePackage(form, pkg, 'phone'));
    expect(p.part).toBe('B');
    expect(p.message).toContain('第二部分「班子集体和成员年度考核民主测评表」');
    expect(p.message).toContain('尚未填写');
  });

  it('refuses a missing recommendation part on a phone', () => {
    const pkg = makePackage(form);
    delete pkg.D;
    const p = refused(validatePackage(form, pkg, 'phone'));
    expect(p.part).toBe('D');
    expect(p.message).toContain('第四部分「后备干部人选推荐表」');
  });

  it('a missing comment part is fine (the comment is optional)', () => {
    const pkg = makePackage(form);
    delete pkg.E;
    expect(accepted(validatePackage(form, pkg, 'phone')).E).toEqual({ text: '' });
  });

  it('refuses an ungraded member, naming the part and the member in Chinese', () => {
    const b = ratingPart(form, 'B');
    const grades = allGrades(b, 'competent');
    const member = b.subjects[2]!;
    delete grades[member.key];
    const p = refused(validatePackage(form, makePackage(form, { B: { grades } }), 'phone'));
    expect(p.part).toBe('B');
    expect(p.subject).toBe(member.key);
    expect(p.message).toContain('第二部分「班子集体和成员年度考核民主测评表」');
    expect(p.message).toContain(member.label);
    expect(p.message).toContain(member.detail!);
    expect(p.message).toContain('尚未选择评价等次');
  });

  it('refuses an ungraded aspect of part A, naming 第一部分 and the aspect', () => {
    const a = ratingPart(form, 'A');
    const grades = allGrades(a, 'good');
    delete grades[a.subjects[5]!.key];
    const p = refused(validatePackage(form, makePackage(form, { A: { grades } }), 'phone'));
    expect(p.message).toMatch(/^第一部分「党组织政治建设民主测评表」：总体评价 尚未选择评价等次$/);
  });

  it('refuses an ungraded 班子集体 (the collective is a subject too)', () => {
    const b = ratingPart(form, 'B');
    const grades = allGrades(b, 'competent');
    delete grades.team;
    const p = refused(validatePackage(form, makePackage(form, { B: { grades } }), 'phone'));
    expect(p.subject).toBe('team');
    expect(p.message).toContain('班子集体');
  });

  it('refuses an unknown part key', () => {
    const p = refused(validatePackage(makeForm({ only: ['A', 'B', 'C', 'D'] }), { ...makePackage(form) }, 'phone'));
    expect(p.part).toBeNull();
    expect(p.message).toContain('E');
  });

  it('refuses an unknown subject', () => {
    const a = ratingPart(form, 'A');
    const p = refused(validatePackage(form, makePackage(form, { A: { grades: { ...allGrades(a, 'good'), s99: 'good' } } }), 'phone'));
    expect(p.part).toBe('A');
    expect(p.message).toContain('s99');
  });

  it('refuses an unknown grade, even one belonging to another part', () => {
    const b = ratingPart(form, 'B');
    for (const bad of ['good', 'super', '优秀', '']) {
      const grades = { ...allGrades(b, 'competent'), [b.subjects[1]!.key]: bad };
      const p = refused(validatePackage(form, makePackage(form, { B: { grades } }), 'phone'));
      expect(p.subject).toBe(b.subjects[1]!.key);
      expect(p.message).toContain('不存在');
    }
  });

  it('refuses an answer of the wrong shape for the part', () => {
    expect(refused(validatePackage(form, makePackage(form, { A: { text: 'x' } }), 'phone')).part).toBe('A');
    expect(refused(validatePackage(form, makePackage(form, { D: { grades: {} } }), 'phone')).part).toBe('D');
    expect(refused(validatePackage(form, makePackage(form, { E: { picks: [], writeIns: [] } }), 'phone')).part).toBe('E');
  });

  it('a phone can never void a part', () => {
    for (const key of ['A', 'B', 'C', 'D', 'E'] as const) {
      const p = refused(validatePackage(form, makePackage(form, { [key]: { void: true } }), 'phone'));
      expect(p.part).toBe(key);
      expect(p.message).toContain('手机测评不能作废');
    }
  });
});

describe('validatePackage (phone): abstain', () => {
  it('accepts ABSTAIN where the part offers 不了解', () => {
    const form = makeForm();
    const a = ratingPart(form, 'A');
    const pkg = accepted(validatePackage(form, makePackage(form, { A: { grades: allGrades(a, ABSTAIN) } }), 'phone'));
    expect(pkg.A).toEqual({ grades: allGrades(a, ABSTAIN) });
  });

  it('refuses ABSTAIN when abstainLabel is null, naming the subject', () => {
    const form = makeForm({ parts: { B: { abstainLabel: null } } });
    const b = ratingPart(form, 'B');
    const grades = { ...allGrades(b, 'competent'), [b.subjects[3]!.key]: ABSTAIN };
    const p = refused(validatePackage(form, makePackage(form, { B: { grades } }), 'phone'));
    expect(p.subject).toBe(b.subjects[3]!.key);
    expect(p.message).toContain(b.subjects[3]!.label);
    expect(p.message).toContain('必须选择评价等次');
  });
});

describe('quotaLimit', () => {
  const q = (o: Partial<Quota>): Quota => ({ grade: 'excellent', max: null, maxShare: null, scope: 'members', ...o });

  it('0.3 of members, rounded down, never below one', () => {
    const limits = [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 20].map((members) => [
      members,
      quotaLimit(ratingPart(makeForm({ members }), 'B'), q({ maxShare: 0.3 })),
    ]);
    expect(limits).toEqual([
      [1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [6, 1], [7, 2], [9, 2], [10, 3], [11, 3], [20, 6],
    ]);
  });

  it("scope 'members' leaves the collective out; scope 'all' counts it", () => {
    const b = ratingPart(makeForm({ members: 9 }), 'B');
    expect(quotaLimit(b, q({ maxShare: 0.3, scope: 'members' }))).toBe(2);
    expect(quotaLimit(b, q({ maxShare: 0.3, scope: 'all' }))).toBe(3);
  });

  it('max and maxShare together: the smaller wins; never more than the subjects in scope', () => {
    const b = ratingPart(makeForm({ members: 10 }), 'B');
    expect(quotaLimit(b, q({ max: 2, maxShare: 0.3 }))).toBe(2);
    expect(quotaLimit(b, q({ max: 5, maxShare: 0.3 }))).toBe(3);
    expect(quotaLimit(b, q({ max: 50 }))).toBe(10);
    expect(quotaLimit(b, q({ max: 0, maxShare: 0.3 }))).toBe(0);
    expect(quotaLimit(b, q({ maxShare: 0 }))).toBe(0);
    expect(quotaLimit(b, q({ maxShare: 1 }))).toBe(10);
  });

  it('property: a share k/100 of n is exactly floor(k·n/100), at least 1 when k > 0', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 100 }), (members, k) => {
        const b = ratingPart(makeForm({ members, only: ['B'] }), 'B');
        const exact = Math.floor((k * members) / 100);
        expect(quotaLimit(b, q({ maxShare: k / 100 }))).toBe(Math.min(members, k > 0 ? Math.max(1, exact) : 0));
      }),
      { numRuns: 300 },
    );
  });
});

describe('validatePackage (phone): 优秀 quota', () => {
  it('5 members: one 优秀 allowed (plus the collective), two refused with 最多可选 1 人', () => {
    const form = makeForm({ members: 5 });
    const ok = bGrades(form, ['excellent', 'excellent']);
    expect(validatePackage(form, makePackage(form, { B: { grades: ok } }), 'phone').ok).toBe(true);
    const over = bGrades(form, ['competent', 'excellent', 'competent', 'excellent']);
    const p = refused(validatePackage(form, makePackage(form, { B: { grades: over } }), 'phone'));
    expect(p.part).toBe('B');
    expect(p.message).toContain('第二部分「班子集体和成员年度考核民主测评表」');
    expect(p.message).toContain('「优秀」最多可选 1 人');
    expect(p.message).toContain('现已选 2 人');
  });

  it('a team too small for 30% still gets one 优秀 (never rounded down to zero)', () => {
    for (const members of [1, 2, 3]) {
      const form = makeForm({ members });
      const grades = bGrades(form, ['competent', 'excellent']);
      expect(validatePackage(form, makePackage(form, { B: { grades } }), 'phone').ok).toBe(true);
    }
  });

  it('10 members: three 优秀 allowed, four refused with 最多可选 3 人', () => {
    const form = makeForm({ members: 10 });
    const three = bGrades(form, ['competent', 'excellent', 'excellent', 'excellent']);
    expect(validatePackage(form, makePackage(form, { B: { grades: three } }), 'phone').ok).toBe(true);
    const four = bGrades(form, ['competent', 'excellent', 'excellent', 'excellent', 'excellent']);
    expect(refused(validatePackage(form, makePackage(form, { B: { grades: four } }), 'phone')).message).toContain('最多可选 3 人');
  });

  it("a quota with scope 'all' counts the collective", () => {
    const form = makeForm({ members: 5, parts: { B: { quotas: [{ grade: 'excellent', max: 1, maxShare: null, scope: 'all' }] } } });
    const grades = bGrades(form, ['excellent', 'excellent']);
    expect(refused(validatePackage(form, makePackage(form, { B: { grades } }), 'phone')).message).toContain('最多可选 1 人');
  });

  it('a quota on another grade (e.g. at most one 不称职) is enforced by its own label', () => {
    const form = makeForm({ members: 5, parts: { B: { quotas: [{ grade: 'incompetent', max: 1, maxShare: null, scope: 'members' }] } } });
    const grades = bGrades(form, ['competent', 'incompetent', 'incompetent']);
    expect(refused(validatePackage(form, makePackage(form, { B: { grades } }), 'phone')).message).toContain('「不称职」最多可选 1 人');
  });
});

describe('validatePackage (phone): recommendation', () => {
  const form = makeForm({ candidates: 4 });
  const d = recommendPart(form);
  const [c1, c2, c3] = d.candidates;

  it('accepts up to maxPicks, returned in list order', () => {
    const pkg = accepted(validatePackage(form, makePackage(form, { D: { picks: [c2!.key, c1!.key], writeIns: [] } }), 'phone'));
    expect(pkg.D).toEqual({ picks: [c1!.key, c2!.key], writeIns: [] });
  });

  it('refuses more than maxPicks (picks and write-ins together)', () => {
    const p = refused(validatePackage(form, makePackage(form, { D: { picks: [c1!.key, c2!.key, c3!.key], writeIns: [] } }), 'phone'));
    expect(p.part).toBe('D');
    expect(p.message).toContain('最多推荐 2 人');
    const q = refused(validatePackage(form, makePackage(form, { D: { picks: [c1!.key], writeIns: ['田野', '韩梅梅'] } }), 'phone'));
    expect(q.message).toContain('最多推荐 2 人，现已推荐 3 人');
  });

  it('refuses an unknown candidate key and a duplicated pick', () => {
    expect(refused(validatePackage(form, makePackage(form, { D: { picks: ['c99'], writeIns: [] } }), 'phone')).message).toContain('c99');
    expect(refused(validatePackage(form, makePackage(form, { D: { picks: [c1!.key, c1!.key], writeIns: [] } }), 'phone')).message).toContain('重复推荐');
  });

  it('a written-in listed name counts as that candidate', () => {
    const pkg = accepted(validatePackage(form, makePackage(form, { D: { picks: [], writeIns: [c3!.name] } }), 'phone'));
    expect(pkg.D).toEqual({ picks: [c3!.key], writeIns: [] });
    const spaced = ` ${[...c3!.name].join(' ')} `;
    expect(accepted(validatePackage(form, makePackage(form, { D: { picks: [], writeIns: [spaced] } }), 'phone')).D).toEqual({
      picks: [c3!.key],
      writeIns: [],
    });
  });

  it('a written-in name matches a listed name that is printed with a padding space (王　芳)', () => {
    const unit = { ...makeUnit({ candidates: 0 }), reserveCandidates: ['王　芳', '欧阳 娜', '李强'] };
    const f = makeForm({ unit });
    const [w, o] = recommendPart(f).candidates;
    expect(accepted(validatePackage(f, makePackage(f, { D: { picks: [], writeIns: ['王芳'] } }), 'phone')).D).toEqual({
      picks: [w!.key],
      writeIns: [],
    });
    // Picking 欧阳 娜 and writing 欧阳娜 in would vote twice for one person.
    expect(refused(validatePackage(f, makePackage(f, { D: { picks: [o!.key], writeIns: ['欧阳娜'] } }), 'phone')).message).toContain(
      '重复推荐',
    );
  });

  it('refuses picking a candidate and also writing their name in', () => {
    const p = refused(validatePackage(form, makePackage(form, { D: { picks: [c1!.key], writeIns: [c1!.name] } }), 'phone'));
    expect(p.message).toContain('重复推荐');
  });

  it('refuses the same write-in twice, also when spaced differently', () => {
    expect(refused(validatePackage(form, makePackage(form, { D: { picks: [], writeIns: ['田野', '田野'] } }), 'phone')).message).toContain('重复推荐');
    expect(refused(validatePackage(form, makePackage(form, { D: { picks: [], writeIns: ['田野', '田 野'] } }), 'phone')).message).toContain('重复推荐');
  });

  it('write-ins are stored without spaces', () => {
    const pkg = accepted(validatePackage(form, makePackage(form, { D: { picks: [], writeIns: ['  欧阳 娜 '] } }), 'phone'));
    expect(pkg.D).toEqual({ picks: [], writeIns: ['欧阳娜'] });
  });

  it('refuses write-ins when the part does not allow them', () => {
    const f = makeForm({ parts: { D: { allowWriteIn: false } } });
    expect(refused(validatePackage(f, makePackage(f, { D: { picks: [], writeIns: ['田野'] } }), 'phone')).message).toContain('只能从名单中选择');
  });
});

describe('validatePackage (phone): comment', () => {
  it('trims the text and refuses text over maxLength', () => {
    const form = makeForm({ parts: { E: { maxLength: 10 } } });
    expect(accepted(validatePackage(form, makePackage(form, { E: { text: '  十个字十个字十个字  ' } }), 'phone')).E).toEqual({
      text: '十个字十个字十个字',
    });
    const p = refused(validatePackage(form, makePackage(form, { E: { text: '十一个字十一个字十一个' } }), 'phone'));
    expect(p.part).toBe('E');
    expect(p.message).toContain('不能超过 10 字');
  });
});

describe('validatePackage (paper)', () => {
  const form = makeForm({ members: 5, candidates: 3 });

  it('a blank part is valid and every subject is 弃权', () => {
    const pkg = accepted(validatePackage(form, {}, 'paper'));
    for (const key of ['A', 'B', 'C'] as const) {
      expect(pkg[key]).toEqual({ grades: allGrades(ratingPart(form, key), ABSTAIN) });
    }
    expect(pkg.D).toEqual({ picks: [], writeIns: [] });
    expect(pkg.E).toEqual({ text: '' });
  });

  it('a blank subject is 弃权, even where the phone would require a grade', () => {
    const f = makeForm({ parts: { B: { abstainLabel: null } } });
    const b = ratingPart(f, 'B');
    const pkg = accepted(validatePackage(f, { B: { grades: { [b.subjects[1]!.key]: 'excellent' } } }, 'paper'));
    expect(pkg.B).toEqual({ grades: { ...allGrades(b, ABSTAIN), [b.subjects[1]!.key]: 'excellent' } });
  });

  it('over the 优秀 quota the part becomes void (and only that part)', () => {
    const grades = bGrades(form, ['competent', 'excellent', 'excellent']);
    const pkg = accepted(validatePackage(form, makePackage(form, { B: { grades } }), 'paper'));
    expect(pkg.B).toEqual({ void: true });
    expect(pkg.A).not.toEqual({ void: true });
    expect(pkg.D).toEqual({ picks: [], writeIns: [] });
  });

  it('over maxPicks the recommendation becomes void', () => {
    const [c1, c2, c3] = recommendPart(form).candidates;
    const pkg = accepted(validatePackage(form, makePackage(form, { D: { picks: [c1!.key, c2!.key, c3!.key], writeIns: [] } }), 'paper'));
    expect(pkg.D).toEqual({ void: true });
  });

  it('an explicit void is allowed on every part', () => {
    const all = { A: { void: true }, B: { void: true }, C: { void: true }, D: { void: true }, E: { void: true } } as const;
    const pkg = accepted(validatePackage(form, all, 'paper'));
    expect(pkg).toEqual(all);
  });

  it('still refuses what cannot be on the paper form (unknown grade or subject)', () => {
    const b = ratingPart(form, 'B');
    expect(validatePackage(form, { B: { grades: { [b.subjects[0]!.key]: 'good' } } }, 'paper').ok).toBe(false);
    expect(validatePackage(form, { B: { grades: { nobody: 'excellent' } } }, 'paper').ok).toBe(false);
    expect(validatePackage(form, { F: { text: '' } } as BallotPackage, 'paper').ok).toBe(false);
  });
});

describe('factories', () => {
  it('property: arbPackage yields packages every form accepts from a phone', () => {
    fc.assert(
      fc.property(
        arbForm().chain((form) => fc.tuple(fc.constant(form), arbPackage(form))),
        ([form, pkg]) => {
          const check = validatePackage(form, pkg, 'phone');
          expect(check.ok ? null : check.problem.message).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('property: arbPaperPackage yields packages every form accepts from paper', () => {
    fc.assert(
      fc.property(
        arbForm().chain((form) => fc.tuple(fc.constant(form), arbPaperPackage(form))),
        ([form, pkg]) => {
          const check = validatePackage(form, pkg, 'paper');
          expect(check.ok ? null : check.problem.message).toBeNull();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('randomValidPackage is valid and deterministic per seed', () => {
    const form = makeForm({ members: 8, candidates: 5, criteria: ['组织纪律', '工作态度'] });
    for (let seed = 0; seed < 200; seed++) {
      const pkg = randomValidPackage(form, seededRng(seed));
      const check = validatePackage(form, pkg, 'phone');
      expect(check.ok ? null : check.problem.message).toBeNull();
      expect(randomValidPackage(form, seededRng(seed))).toEqual(pkg);
    }
  });

  it('property: a valid phone package is also accepted as paper, with the same result', () => {
    fc.assert(
      fc.property(
        arbForm().chain((form) => fc.tuple(fc.constant(form), arbPackage(form))),
        ([form, pkg]) => {
          expect(validatePackage(form, pkg, 'paper')).toEqual(validatePackage(form, pkg, 'phone'));
        },
      ),
      { numRuns: 200 },
    );
  });
});
