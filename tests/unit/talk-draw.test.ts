/**
 * The talk draw as anyone re-checking it would: an independent implementation of the algorithm as
 * the README writes it (Web Crypto's SHA-256, its own code-point sort, its own shuffle), a pinned
 * known answer so a printed list stays reproducible across versions, and properties over random
 * pools and rosters: order of typing does not matter, drawing more keeps the first names, the
 * notice's minimums hold for every unit kind, and every name is about as likely as any other.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalPool, drawNames, normalizeSeed, poolDigest, seedProblem } from '../../server/inspection/draw.ts';
import { canExtend, canRedraw, drawCount, talkMinimum } from '../../server/inspection/talk-rules.ts';

// ---- the README's algorithm, written again from its words ----

function codePointKey(s: string): string {
  return Array.from(s, (c) => c.codePointAt(0)!.toString(16).padStart(6, '0')).join('');
}

async function oracleDraw(seedTyped: string, identity: string, names: string[], count: number): Promise<string[]> {
  const seed = seedTyped.normalize('NFKC').split(/\s/u).join('').toUpperCase();
  const pool = names
    .map((n) => n.normalize('NFC').trim())
    .filter(Boolean)
    .map((n) => ({ n, k: codePointKey(n) }))
    .sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
    .map((x) => x.n);
  const words: number[] = [];
  let block = 0;
  const nextWord = async () => {
    if (words.length === 0) {
      const bytes = new TextEncoder().encode(`ceping-draw/1\n${identity.normalize('NFC')}\n${seed}\n${block}`);
      block += 1;
      const view = new DataView(await crypto.subtle.digest('SHA-256', bytes));
      for (let i = 0; i < 32; i += 4) words.push(view.getUint32(i, false));
    }
    return words.shift()!;
  };
  const n = Math.min(count, pool.length);
  for (let i = 0; i < n; i++) {
    const m = pool.length - i;
    const limit = 4294967296 - (4294967296 % m);
    let x = await nextWord();
    while (x >= limit) x = await nextWord();
    const j = i + (x % m);
    const tmp = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = tmp;
  }
  return pool.slice(0, n);
}

const SURNAMES = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗'.split('');
const GIVEN = ['伟', '芳', '秀英', '敏', '静', '强', '磊', '军', '洋', '勇', '𠮷'];
const arbName = fc.tuple(fc.constantFrom(...SURNAMES), fc.constantFrom(...GIVEN)).map(([s, g]) => s + g);
const arbSeed = fc.stringMatching(/^[0-9A-Za-z ]{4,20}$/).filter((s) => seedProblem(s) === null);
const arbIdentity = fc.tuple(fc.constantFrom('插旗镇', '城关镇'), fc.integer({ min: 2018, max: 2030 }), fc.constantFrom('红旗村', '城南社区', '农业综合服务站'), fc.integer({ min: 1, max: 500 }))
  .map(([t, y, u, id]) => `${t}/${y}/${u}/${id}`);

describe('seed and pool normalisation', () => {
  it('reads a seed as announced: full-width digits, spaces and case do not matter', () => {
    expect(normalizeSeed('ＨＫ３７２８ １９４６')).toBe('HK37281946');
    expect(normalizeSeed(' hk 3728\u30001946 ')).toBe('HK37281946');
    expect(seedProblem('')).toContain('抽签种子');
    expect(seedProblem('12 3')).toBe('抽签种子至少需要 4 个字符');
    expect(seedProblem('1'.repeat(65))).toBe('抽签种子不能超过 64 个字符');
    expect(seedProblem('1234')).toBeNull();
  });

  it('orders the pool by code point, keeping duplicate names', () => {
    expect(canonicalPool([' 王伟', '李芳', '王伟', '', '𠮷田'])).toEqual(['李芳', '王伟', '王伟', '𠮷田']);
    expect(poolDigest(['乙', '甲'])).toBe(poolDigest(['甲', '乙 ']));
    expect(poolDigest(['乙', '甲'])).toMatch(/^[0-9A-F]{4}( [0-9A-F]{4}){3}$/);
  });
});

describe('the draw against the README’s algorithm', () => {
  it('matches a known answer (a printed list must stay reproducible in later versions)', async () => {
    const pool = ['甲', '乙', '丙', '丁', '戊', '己', '庚', '辛'];
    const known = await oracleDraw('12345678', '插旗镇/2020/红旗村/1', pool, 3);
    expect(drawNames({ seed: '12345678', identity: '插旗镇/2020/红旗村/1', pool, count: 3 })).toEqual(known);
    expect(known).toEqual(['甲', '己', '丙']);
  });

  it('equals the independent implementation on random pools, seeds and counts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(arbName, { maxLength: 80 }), arbSeed, arbIdentity, fc.integer({ min: 0, max: 90 }), async (names, seed, identity, count) => {
        const got = drawNames({ seed, identity, pool: names, count });
        expect(got).toEqual(await oracleDraw(seed, identity, names, count));
        expect(got).toHaveLength(Math.min(count, names.length));
        // A sub-multiset of the pool: nobody is drawn more often than they are listed.
        const left = new Map<string, number>();
        for (const n of names) left.set(n, (left.get(n) ?? 0) + 1);
        for (const n of got) {
          expect(left.get(n) ?? 0).toBeGreaterThan(0);
          left.set(n, left.get(n)! - 1);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('does not depend on the order names were typed in', () => {
    fc.assert(
      fc.property(fc.array(arbName, { minLength: 1, maxLength: 60 }), arbSeed, arbIdentity, fc.nat(60), fc.infiniteStream(fc.nat()), (names, seed, identity, count, randoms) => {
        const shuffled = [...names];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = randoms.next().value % (i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
        }
        expect(drawNames({ seed, identity, pool: shuffled, count })).toEqual(drawNames({ seed, identity, pool: names, count }));
      }),
    );
  });

  it('keeps the names already drawn when more are drawn with the same seed', () => {
    fc.assert(
      fc.property(fc.array(arbName, { maxLength: 60 }), arbSeed, arbIdentity, fc.nat(60), fc.nat(30), (names, seed, identity, count, more) => {
        const first = drawNames({ seed, identity, pool: names, count });
        expect(drawNames({ seed, identity, pool: names, count: count + more }).slice(0, first.length)).toEqual(first);
      }),
    );
  });

  it('gives different lists for different seeds and different meetings', () => {
    const pool = Array.from({ length: 60 }, (_, i) => `参会${i + 1}`);
    const lists = new Set<string>();
    for (let s = 0; s < 200; s++) lists.add(drawNames({ seed: `SEED${s}`, identity: '插旗镇/2020/红旗村/1', pool, count: 26 }).join(','));
    for (let id = 2; id < 50; id++) lists.add(drawNames({ seed: 'SEED0', identity: `插旗镇/2020/红旗村/${id}`, pool, count: 26 }).join(','));
    expect(lists.size).toBe(200 + 48);
  });

  it('gives every name about the same chance (2,000 seeds, 10 names, 3 drawn)', () => {
    const pool = ['甲', '乙', '丙', '丁', '戊', '己', '庚', '辛', '壬', '癸'];
    const hits = new Map(pool.map((n) => [n, 0]));
    const first = new Map(pool.map((n) => [n, 0]));
    for (let s = 0; s < 2000; s++) {
      const got = drawNames({ seed: `S${s}X`, identity: '插旗镇/2020/红旗村/1', pool, count: 3 });
      for (const n of got) hits.set(n, hits.get(n)! + 1);
      first.set(got[0]!, first.get(got[0]!)! + 1);
    }
    // Expected 600 picks and 200 first places each; a fair draw stays well within these bounds.
    for (const [n, h] of hits) expect(h, n).toBeGreaterThan(500);
    for (const [n, h] of hits) expect(h, n).toBeLessThan(700);
    for (const [n, h] of first) expect(h, n).toBeGreaterThan(140);
    for (const [n, h] of first) expect(h, n).toBeLessThan(260);
  });
});

describe('the notice’s minimums over random rosters', () => {
  const arbRoster = fc.record({
    kind: fc.constantFrom('village' as const, 'community' as const, 'station' as const),
    team: fc.uniqueArray(arbName, { maxLength: 9 }),
    roster: fc.array(fc.record({ name: arbName, signedIn: fc.boolean() }), { maxLength: 120 }),
    extra: fc.nat(20),
    seed: arbSeed,
  });

  it('lists the whole team, and draws 30 in all at a village or community (or everyone there is), every staff member at a station', () => {
    fc.assert(
      fc.property(arbRoster, ({ kind, team, roster, extra, seed }) => {
        // The pool as the notice and the README describe it, computed here on its own.
        const teamNames = new Set(team);
        const pool = roster.filter((e) => (kind === 'station' || e.signedIn) && !teamNames.has(e.name)).map((e) => e.name);
        const min = talkMinimum(kind, team.length, pool.length);
        const asked = drawCount(min, pool.length, min.drawn + extra);
        const count = asked.ok ? asked.count! : min.drawn;
        if (!asked.ok) expect(min.drawn + extra).toBeGreaterThan(pool.length);
        const drawn = drawNames({ seed, identity: '插旗镇/2020/测试/1', pool, count });
        const listed = team.length + drawn.length;
        if (kind === 'station') {
          expect(min.everyone).toBe(true);
          expect(min.drawn).toBe(pool.length);
          expect(min.total).toBe(team.length + pool.length);
        } else {
          const needed = Math.max(30, team.length);
          expect(min.total).toBe(needed);
          expect(listed).toBeGreaterThanOrEqual(Math.min(needed, team.length + pool.length));
          expect(min.shortfall).toBe(Math.max(0, needed - team.length - pool.length));
          expect(min.drawn).toBe(Math.min(Math.max(0, 30 - team.length), pool.length));
        }
        // Never fewer than the rule, never more than the pool (a station lists everyone whatever is asked).
        if (kind === 'station') expect(drawCount(min, pool.length, 0)).toMatchObject({ ok: true, count: pool.length });
        else {
          if (min.drawn > 0) expect(drawCount(min, pool.length, min.drawn - 1).ok).toBe(false);
          expect(drawCount(min, pool.length, pool.length + 1).ok).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('guards a re-draw and an extension with reasons', () => {
    expect(canRedraw({ drawnTouched: 0, reason: '种子读错' })).toMatchObject({ ok: true });
    expect(canRedraw({ drawnTouched: 0, reason: '错' })).toMatchObject({ ok: false, reason: 'DRAW_REASON' });
    expect(canRedraw({ drawnTouched: 2, reason: '种子读错了' })).toMatchObject({ ok: false, reason: 'TALKS_STARTED' });
    expect(canExtend(26, 26, 60, false)).toMatchObject({ ok: false, reason: 'DRAW_COUNT' });
    expect(canExtend(26, 61, 60, false)).toMatchObject({ ok: false, reason: 'DRAW_COUNT' });
    expect(canExtend(26, 27, 60, false)).toMatchObject({ ok: true });
    expect(canExtend(12, 13, 20, true)).toMatchObject({ ok: false });
  });
});
