import { describe, expect, it } from 'vitest';
import {
  BallotPackage,
  Form,
  PartAnswer,
  Quota,
  Template,
  TemplatePart,
} from '../../server/forms/form.schemas.ts';
import { standardTemplate } from '../../server/forms/standard-template.ts';
import { makeForm, makeTemplate } from '../factories/forms.ts';

describe('standardTemplate', () => {
  it('is a valid Template', () => {
    expect(Template.safeParse(standardTemplate()).success).toBe(true);
  });

  it('has the five parts of the notice, in order, with their Chinese titles', () => {
    const t = standardTemplate();
    expect(t.parts.map((p) => [p.key, p.kind, p.title])).toEqual([
      ['A', 'rating', '党组织政治建设民主测评表'],
      ['B', 'rating', '班子集体和成员年度考核民主测评表'],
      ['C', 'rating', '党组织书记抓基层党建工作述职评议表'],
      ['D', 'recommend', '后备干部人选推荐表'],
      ['E', 'comment', '意见建议'],
    ]);
  });

  it('part A rates the five political aspects plus 总体评价 on 好/较好/一般/差', () => {
    const a = standardTemplate().parts[0]!;
    if (a.kind !== 'rating' || a.source.type !== 'static') throw new Error('part A must be a static rating part');
    expect(a.source.items).toEqual(['把握政治方向', '夯实政治根基', '严肃政治生活', '提高政治能力', '严格政治自律', '总体评价']);
    expect(a.grades.map((g) => g.label)).toEqual(['好', '较好', '一般', '差']);
    expect(a.scale).toBe('quality');
  });

  it('part B rates the team on 优秀/称职/基本称职/不称职 with 优秀 held to 30% of members', () => {
    const b = standardTemplate().parts[1]!;
    if (b.kind !== 'rating') throw new Error('part B must be a rating part');
    expect(b.grades.map((g) => g.label)).toEqual(['优秀', '称职', '基本称职', '不称职']);
    expect(b.scale).toBe('competence');
    expect(b.source).toEqual({ type: 'team', collectiveLabel: '班子集体', criteria: null });
    expect(b.quotas).toEqual([{ grade: 'excellent', max: null, maxShare: 0.3, scope: 'members' }]);
    expect(b.quotas[0]!.grade).toBe(b.grades[0]!.key);
  });

  it('part C grades the secretary on 总体评价; part D picks at most 2 with write-ins', () => {
    const [, , c, d] = standardTemplate().parts;
    expect(c).toMatchObject({ kind: 'rating', source: { type: 'secretary', items: ['总体评价'] } });
    expect(d).toMatchObject({ kind: 'recommend', maxPicks: 2, allowWriteIn: true });
  });

  it('returns an independent copy each time (editing one campaign never changes the next)', () => {
    const first = standardTemplate();
    const a = first.parts[0]!;
    const b = first.parts[1]!;
    if (a.kind !== 'rating' || b.kind !== 'rating') throw new Error('rating parts expected');
    a.grades[0]!.label = '很好';
    b.grades[0]!.label = '特别优秀';
    b.quotas.push({ grade: 'competent', max: 1, maxShare: null, scope: 'all' });
    const second = standardTemplate();
    expect(second.parts[0]).toMatchObject({ grades: [{ label: '好' }, {}, {}, {}] });
    expect(second.parts[1]).toMatchObject({ grades: [{ label: '优秀' }, {}, {}, {}] });
    expect((second.parts[1] as { quotas: unknown[] }).quotas).toHaveLength(1);
    // Part C's grades are not the same objects as part A's either.
    const c = second.parts[2]!;
    const a2 = second.parts[0]!;
    if (c.kind !== 'rating' || a2.kind !== 'rating') throw new Error('rating parts expected');
    a2.grades[1]!.label = '还行';
    expect(c.grades[1]!.label).toBe('较好');
  });
});

describe('Template schema', () => {
  it('refuses duplicate part keys', () => {
    const t = standardTemplate();
    t.parts[1] = { ...t.parts[1]!, key: 'A' };
    expect(Template.safeParse(t).success).toBe(false);
  });

  it('refuses an empty template and more than five parts', () => {
    expect(Template.safeParse({ parts: [] }).success).toBe(false);
    const t = standardTemplate();
    expect(Template.safeParse({ parts: [...t.parts, { kind: 'comment', key: 'E', title: '其他', maxLength: 100 }] }).success).toBe(false);
  });

  it('needs at least two grades, at most six', () => {
    const two = makeTemplate({ parts: { A: { grades: [{ key: 'y', label: '好' }, { key: 'n', label: '差' }] } } });
    expect(Template.safeParse(two).success).toBe(true);
    const one = makeTemplate({ parts: { A: { grades: [{ key: 'y', label: '好' }] } } });
    expect(Template.safeParse(one).success).toBe(false);
    const seven = makeTemplate({
      parts: { A: { grades: Array.from({ length: 7 }, (_, i) => ({ key: `g${i}`, label: `等次${i}` })) } },
    });
    expect(Template.safeParse(seven).success).toBe(false);
  });

  it('keys are short ASCII identifiers; labels are trimmed and non-empty', () => {
    const badKey = makeTemplate({ parts: { A: { grades: [{ key: '好', label: '好' }, { key: 'n', label: '差' }] } } });
    expect(Template.safeParse(badKey).success).toBe(false);
    const blank = makeTemplate({ parts: { A: { title: '   ' } } });
    expect(Template.safeParse(blank).success).toBe(false);
    const padded = makeTemplate({ parts: { A: { title: '  测评表  ' } } });
    const parsed = Template.parse(padded);
    expect(parsed.parts[0]!.title).toBe('测评表');
  });

  it('maxPicks is 1..20 and the comment length 10..2000', () => {
    const part = (o: object) => TemplatePart.safeParse({ kind: 'recommend', key: 'D', title: '推荐', allowWriteIn: true, ...o }).success;
    expect(part({ maxPicks: 1 })).toBe(true);
    expect(part({ maxPicks: 20 })).toBe(true);
    expect(part({ maxPicks: 0 })).toBe(false);
    expect(part({ maxPicks: 21 })).toBe(false);
    expect(part({ maxPicks: 1.5 })).toBe(false);
    const comment = (maxLength: number) => TemplatePart.safeParse({ kind: 'comment', key: 'E', title: '意见', maxLength }).success;
    expect(comment(9)).toBe(false);
    expect(comment(10)).toBe(true);
    expect(comment(2001)).toBe(false);
  });
});

describe('Quota schema', () => {
  it('needs a max or a maxShare', () => {
    expect(Quota.safeParse({ grade: 'excellent', max: null, maxShare: null, scope: 'all' }).success).toBe(false);
    expect(Quota.safeParse({ grade: 'excellent', max: 2, maxShare: null, scope: 'all' }).success).toBe(true);
    expect(Quota.safeParse({ grade: 'excellent', max: null, maxShare: 0.15, scope: 'members' }).success).toBe(true);
  });

  it('refuses a negative or fractional max and a share outside 0..1', () => {
    expect(Quota.safeParse({ grade: 'excellent', max: -1, maxShare: null, scope: 'all' }).success).toBe(false);
    expect(Quota.safeParse({ grade: 'excellent', max: 1.5, maxShare: null, scope: 'all' }).success).toBe(false);
    expect(Quota.safeParse({ grade: 'excellent', max: null, maxShare: 1.01, scope: 'all' }).success).toBe(false);
    expect(Quota.safeParse({ grade: 'excellent', max: null, maxShare: -0.1, scope: 'all' }).success).toBe(false);
    expect(Quota.safeParse({ grade: 'excellent', max: null, maxShare: 0.3, scope: 'some' }).success).toBe(false);
  });
});

describe('Form schema', () => {
  it('accepts a resolved standard form, with and without criteria', () => {
    expect(Form.safeParse(makeForm()).success).toBe(true);
    expect(Form.safeParse(makeForm({ members: 12, criteria: ['组织纪律', '工作态度', '财务制度', '工作业绩', '廉洁自律'] })).success).toBe(true);
  });

  it('refuses a rating part without subjects', () => {
    const f = makeForm();
    const a = f.parts[0]!;
    if (a.kind !== 'rating') throw new Error('rating part expected');
    a.subjects = [];
    expect(Form.safeParse(f).success).toBe(false);
  });
});

describe('BallotPackage schema', () => {
  it('accepts every answer shape, any subset of parts', () => {
    const pkg = {
      A: { grades: { s1: 'good', s2: 'abstain' } },
      D: { picks: ['c1'], writeIns: ['田野'] },
      E: { text: '建议' },
      C: { void: true },
    };
    expect(BallotPackage.safeParse(pkg).success).toBe(true);
    expect(BallotPackage.safeParse({}).success).toBe(true);
  });

  it('refuses an unknown part key', () => {
    expect(BallotPackage.safeParse({ F: { text: '' } }).success).toBe(false);
    expect(BallotPackage.safeParse({ a: { text: '' } }).success).toBe(false);
  });

  it('answers are strict: extra fields, void:false and mixed shapes are refused', () => {
    expect(PartAnswer.safeParse({ grades: {}, extra: 1 }).success).toBe(false);
    expect(PartAnswer.safeParse({ void: false }).success).toBe(false);
    expect(PartAnswer.safeParse({ void: true, grades: {} }).success).toBe(false);
    expect(PartAnswer.safeParse({ picks: [] }).success).toBe(false);
    expect(PartAnswer.safeParse({ text: 1 }).success).toBe(false);
  });

  it('write-ins are trimmed, never blank, at most 30 characters; at most 20 picks', () => {
    const parsed = PartAnswer.parse({ picks: [], writeIns: ['  田野  '] });
    expect(parsed).toEqual({ picks: [], writeIns: ['田野'] });
    expect(PartAnswer.safeParse({ picks: [], writeIns: ['   '] }).success).toBe(false);
    expect(PartAnswer.safeParse({ picks: [], writeIns: ['\u3000'] }).success).toBe(false);
    expect(PartAnswer.safeParse({ picks: [], writeIns: ['名'.repeat(31)] }).success).toBe(false);
    expect(PartAnswer.safeParse({ picks: Array.from({ length: 21 }, (_, i) => `c${i}`), writeIns: [] }).success).toBe(false);
  });

  it('comment text is limited to 2000 characters by the schema', () => {
    expect(PartAnswer.safeParse({ text: '字'.repeat(2000) }).success).toBe(true);
    expect(PartAnswer.safeParse({ text: '字'.repeat(2001) }).success).toBe(false);
  });
});
