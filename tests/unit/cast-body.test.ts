/**
 * The cast route's hand-written shape check (server/ballots/cast-body.ts) against zod's (CastRequest):
 * wherever the fast check says yes, zod says yes with the same value; on the bodies phones send, the fast
 * check says yes (or the route would be as slow as before, and this file would not notice).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { wellFormedCast } from '../../server/ballots/cast-body.ts';
import { CastRequest } from '../../server/ballots/voter.schemas.ts';

const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const b64u = (n: number) => fc.string({ unit: fc.constantFrom(...B64U), minLength: n, maxLength: n });
/** Strings near every limit of the schema, with characters that matter: spaces to trim, astral pairs, quotes, keys of Object.prototype. */
const text = (max: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ maxLength: Math.min(max, 12) }) },
    fc.string({ maxLength: max }),
    fc.string({ minLength: max - 1, maxLength: max + 1, unit: fc.constantFrom('a', '评', '😀', ' ', '"') }),
    fc.constantFrom('', ' x', 'x ', '\u3000好', 'abstain', '__proto__', 'constructor', 'toString', 'fair'),
  );
const ratingAnswer = fc.record({ grades: fc.dictionary(text(41), text(41), { maxKeys: 4 }) });
const recommendAnswer = fc.record({ picks: fc.array(text(41), { maxLength: 21, size: 'small' }), writeIns: fc.array(text(31), { maxLength: 21, size: 'small' }) });
const commentAnswer = fc.record({ text: text(2001) });
const voidAnswer = fc.record({ void: fc.constantFrom<unknown>(true, false, 'true', 1) });
const answer = fc.oneof(ratingAnswer, recommendAnswer, commentAnswer, voidAnswer);
/** Something else where an answer or a value should be: wrong types, extra keys, nulls. */
const odd = fc.oneof(fc.anything({ maxDepth: 2 }), fc.record({ grades: fc.anything({ maxDepth: 2 }), extra: fc.string() }), fc.constant(null));
const pkg = fc.dictionary(fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', '__proto__', 'a'), fc.oneof({ weight: 20, arbitrary: answer }, { weight: 1, arbitrary: odd }), { maxKeys: 3 });
const body = fc.record(
  {
    meetingId: fc.oneof({ weight: 10, arbitrary: fc.integer({ min: -2, max: 1_000_000 }) }, fc.constantFrom<unknown>(1.5, 2 ** 60, '7', null)),
    token: fc.oneof(
      { weight: 20, arbitrary: fc.record({ input: fc.oneof({ weight: 10, arbitrary: b64u(43) }, b64u(44), fc.constant('+'.repeat(43))), output: fc.oneof({ weight: 10, arbitrary: b64u(86) }, b64u(85)) }) },
      { weight: 1, arbitrary: fc.record({ input: b64u(43), output: b64u(86), extra: fc.string() }) },
      { weight: 1, arbitrary: odd },
    ),
    package: fc.oneof({ weight: 20, arbitrary: pkg }, { weight: 1, arbitrary: odd }),
    extra: fc.anything({ maxDepth: 1 }),
  },
  { requiredKeys: ['meetingId', 'token', 'package'] },
);
/** As the route sees it: what JSON.parse makes of the text a phone sent. */
const asParsed = (v: unknown) => JSON.parse(JSON.stringify(v)) as unknown;

describe('the cast body’s fast shape check', () => {
  it('says yes only where zod says yes, with the same value', () => {
    let accepted = 0;
    fc.assert(
      fc.property(body, (raw) => {
        const data = asParsed(raw);
        const fast = wellFormedCast(data);
        const zod = CastRequest.safeParse(data);
        if (fast) {
          accepted++;
          expect(zod.success, JSON.stringify(zod.error?.issues)).toBe(true);
          expect(fast).toStrictEqual(zod.data);
        }
      }),
      { numRuns: 4000, seed: 20261130 },
    );
    // Enough of the random bodies were well formed for the comparison to mean something.
    expect(accepted).toBeGreaterThan(500);
  });

  it('says yes to every body a phone sends: any parts, grades, picks, write-ins and comments within the limits', () => {
    const phoneText = (max: number) => fc.string({ minLength: 1, maxLength: max, unit: fc.constantFrom('a', 'z', '评', '议', '😀', '-', '"') });
    const phoneAnswer = fc.oneof(
      fc.record({ grades: fc.dictionary(phoneText(40), fc.constantFrom('good', 'fair', 'poor', 'abstain'), { maxKeys: 30 }) }),
      fc.record({ picks: fc.array(phoneText(40), { maxLength: 20 }), writeIns: fc.array(phoneText(15), { maxLength: 20 }) }),
      fc.record({ text: fc.string({ maxLength: 2000 }) }),
    );
    const phoneBody = fc.record({
      meetingId: fc.integer({ min: 1, max: 1_000_000 }),
      token: fc.record({ input: b64u(43), output: b64u(86) }),
      package: fc.dictionary(fc.constantFrom('A', 'B', 'C', 'D', 'E'), phoneAnswer),
    });
    fc.assert(
      fc.property(phoneBody, (raw) => {
        const data = asParsed(raw);
        const fast = wellFormedCast(data);
        expect(fast).not.toBeNull();
        expect(fast).toStrictEqual(CastRequest.parse(data));
      }),
      { numRuns: 1000, seed: 1130 },
    );
  });

  it('leaves to zod what it would change or refuse: a write-in to trim, a "__proto__" key, an unknown part, a non-integer meeting', () => {
    const good = { meetingId: 3, token: { input: 'a'.repeat(43), output: 'b'.repeat(86) } };
    for (const pkg of [{ D: { picks: [], writeIns: [' 张三 '] } }, JSON.parse('{"A":{"grades":{"__proto__":"good","s1":"good"}}}'), { F: { text: '' } }, { A: { grades: {}, x: 1 } }]) {
      expect(wellFormedCast({ ...good, package: pkg }), JSON.stringify(pkg)).toBeNull();
    }
    expect(wellFormedCast({ ...good, meetingId: 2.5, package: {} })).toBeNull();
    expect(wellFormedCast({ ...good, package: {} })).toEqual({ ...good, package: {} });
    // zod keeps the body's value where it changes nothing; trims a write-in where it does.
    expect(CastRequest.parse({ ...good, package: { D: { picks: [], writeIns: [' 张三 '] } } }).package.D).toEqual({ picks: [], writeIns: ['张三'] });
  });
});
