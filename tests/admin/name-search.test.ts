import { describe, expect, it } from 'vitest';
import { NameIndex, nameMatches, readingsOf } from '../../admin-ui/src/lib/name-search.ts';

const find = (name: string, q: string) => nameMatches(name, readingsOf(name), q);

describe('finding a person on the roster', () => {
  it('finds 张三民 by its pinyin initials, full pinyin, a mix, or part of the name', () => {
    for (const q of ['zsm', 'ZSM', 'zs', 'sm', 'zhangsanmin', 'zhangsm', 'zhang', 'sanmin', '三民', '张三民']) expect(find('张三民', q), q).toBe(true);
    for (const q of ['zsx', 'lsm', 'wang', '李']) expect(find('张三民', q), q).toBe(false);
  });

  it('tries every reading of a polyphonic character and reads a surname as a surname', () => {
    expect(find('单雄信', 'sxx')).toBe(true);
    expect(find('单雄信', 'dxx')).toBe(true);
    expect(find('曾小军', 'zxj')).toBe(true);
    expect(find('吕芳', 'lf')).toBe(true);
    expect(find('吕芳', 'lvfang')).toBe(true);
    expect(find('吕芳', 'lufang')).toBe(true);
  });

  it('an empty query finds everyone; letters never match inside a name of digits', () => {
    expect(find('参会人员12', '')).toBe(true);
    expect(find('参会人员12', '12')).toBe(true);
    expect(find('参会人员12', 'chry')).toBe(true);
  });

  it('searches a list and keeps its order', () => {
    const people = ['张三民', '章山敏', '王芳', '张伟'].map((name, id) => ({ id, name }));
    const index = new NameIndex(people, (p) => p.name);
    expect(index.search('zsm').map((p) => p.name)).toEqual(['张三民', '章山敏']);
    expect(index.search('wf').map((p) => p.name)).toEqual(['王芳']);
    expect(index.search('').length).toBe(4);
  });
});
