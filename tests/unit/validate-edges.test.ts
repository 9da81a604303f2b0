/**
 * validatePackage at its edges, every expected message written out: which part a refusal names (by
 * its ordinal), malformed answers refused rather than crashing, the comment's length limit exactly,
 * control characters, noncharacters and lone surrogates dropped, written-in names compared without spaces.
 */
import { describe, expect, it } from 'vitest';
import type { BallotPackage } from '../../server/forms/form.schemas.ts';
import { validatePackage, withoutControls, type PackageCheck } from '../../server/ballots/validate-package.ts';
import { makeForm, makePackage, recommendPart } from '../factories/forms.ts';

const form = makeForm({ members: 2, candidates: 3 });
const message = (c: PackageCheck) => (c.ok ? `accepted ${JSON.stringify(c.pkg)}` : c.problem.message);
const phone = (o: BallotPackage) => validatePackage(form, makePackage(form, o), 'phone');

describe('a refusal names its part by ordinal and title', () => {
  it('第一 to 第四 部分, each 尚未填写 when missing from a phone package', () => {
    expect(message(phone({ A: undefined }))).toBe('第一部分「党组织政治建设民主测评表」：尚未填写');
    expect(message(phone({ B: undefined }))).toBe('第二部分「班子集体和成员年度考核民主测评表」：尚未填写');
    expect(message(phone({ C: undefined }))).toBe('第三部分「党组织书记抓基层党建工作述职评议表」：尚未填写');
    expect(message(phone({ D: undefined }))).toBe('第四部分「后备干部人选推荐表」：尚未填写');
  });
});

describe('a malformed answer is refused as malformed, never a crash', () => {
  it('a rating, recommendation or comment answer of the wrong shape', () => {
    expect(message(phone({ A: { marks: {} } as never }))).toBe('第一部分「党组织政治建设民主测评表」：内容格式不正确');
    expect(message(phone({ D: { picks: [] } as never }))).toBe('第四部分「后备干部人选推荐表」：内容格式不正确');
    expect(message(phone({ D: { writeIns: [] } as never }))).toBe('第四部分「后备干部人选推荐表」：内容格式不正确');
    expect(message(phone({ E: '建议' as never }))).toBe('第五部分「意见建议」：内容格式不正确');
    expect(message(phone({ E: null as never }))).toBe('第五部分「意见建议」：内容格式不正确');
    expect(message(phone({ D: 'x' as never }))).toBe('第四部分「后备干部人选推荐表」：内容格式不正确');
  });

  it('an error that is not a refusal is not passed off as one', () => {
    expect(() => validatePackage(form, makePackage(form, { D: { picks: 5, writeIns: [] } as never }), 'phone')).toThrow(TypeError);
  });
});

describe('the comment', () => {
  it('may be exactly 500 characters after trimming, not 501', () => {
    const fits = '建'.repeat(500);
    const check = phone({ E: { text: ` ${fits} ` } });
    expect(check.ok && check.pkg.E).toEqual({ text: fits });
    expect(message(phone({ E: { text: `${fits}议` } }))).toBe('第五部分「意见建议」：意见建议不能超过 500 字');
  });
});

describe('withoutControls', () => {
  it('drops C0 and C1 controls except tab and newline', () => {
    expect(withoutControls('a\u0000b\u0008c\td\ne\u000bf\u001fg\u007fh\u0080i\u009fj\u00a0k')).toBe('abc\td\nefghij\u00a0k');
  });

  it('drops halves of surrogate pairs standing alone, keeps pairs and the characters either side of the range', () => {
    expect(withoutControls('a\ud800b\udbffc\udc00d\udfffe')).toBe('abcde');
    expect(withoutControls('王\ud83d\ude00芳\ud7ff\ue000')).toBe('王\ud83d\ude00芳\ud7ff\ue000');
  });

  it('drops the Unicode noncharacters of every plane (U+FFFF would make report.xlsx invalid XML), keeps their neighbours', () => {
    expect(withoutControls('a\ufdd0b\ufdefc\ufffed\uffffe\u{1fffe}f\u{2ffff}g\u{10ffff}h')).toBe('abcdefgh');
    expect(withoutControls('\ufdcf\ufdf0\ufffd\u{1fffd}\u{10fffd}')).toBe('\ufdcf\ufdf0\ufffd\u{1fffd}\u{10fffd}');
  });

  it('applies to the comment and to written-in names', () => {
    const c = phone({ D: { picks: [], writeIns: ['田\uffff野'] }, E: { text: '建\ufffe议\ud800' } });
    expect(c.ok && [c.pkg.D, c.pkg.E]).toEqual([{ picks: [], writeIns: ['田野'] }, { text: '建议' }]);
  });
});

describe('written-in names', () => {
  const [zhang, wang] = recommendPart(form).candidates;
  it('are compared without spaces: a listed name written in with spaces counts as that candidate', () => {
    const c = phone({ D: { picks: [], writeIns: [` ${wang!.name[0]}　${wang!.name.slice(1)} `] } });
    expect(c.ok && c.pkg.D).toEqual({ picks: [wang!.key], writeIns: [] });
  });

  it('are kept without their spaces, and a blank one is no name at all', () => {
    const c = phone({ D: { picks: [zhang!.key], writeIns: ['  田 野 ', '   ', ''] } });
    expect(c.ok && c.pkg.D).toEqual({ picks: [zhang!.key], writeIns: ['田野'] });
  });
});
