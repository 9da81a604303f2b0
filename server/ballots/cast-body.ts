import { PartKey } from '../forms/form.schemas.ts';
import type { CastRequest } from './voter.schemas.ts';

/**
 * The cast body's shape (voter.schemas.ts, CastRequest) checked by hand for the case every phone sends:
 * a well-formed body. Zod's parse of it allocated about a third of a cast's garbage on the main thread
 * (each part's answer is tried against the union's options in turn; bench/README.md, "Garbage per cast"), and a hall
 * sends hundreds of casts a second. This check says yes only where CastRequest would say yes and give
 * the same value (tests/unit/cast-body.test.ts compares the two on random and hostile bodies); anything
 * else returns null, and the route asks zod, whose answer and refusal message stand. It is the shape
 * only: validatePackage still checks the package against the form.
 */
export function wellFormedCast(data: unknown): CastRequest | null {
  if (!isPlain(data)) return null;
  const { meetingId, token, package: pkg } = data;
  if (typeof meetingId !== 'number' || !Number.isSafeInteger(meetingId) || meetingId <= 0) return null;
  if (!isPlain(token)) return null;
  const { input, output } = token;
  if (!isB64u(input, INPUT_CHARS) || !isB64u(output, OUTPUT_CHARS)) return null;
  if (!isPlain(pkg)) return null;
  const answers: CastRequest['package'] = {};
  for (const key of Object.keys(pkg)) {
    if (!PART_KEYS.has(key)) return null;
    const answer = partAnswer(pkg[key]);
    if (!answer) return null;
    answers[key as PartKey] = answer;
  }
  // Anything but own string keys (symbols cannot come from JSON, but the body is whatever the parser made).
  if (Object.getOwnPropertySymbols(pkg).length > 0) return null;
  return { meetingId, token: { input, output }, package: answers };
}

const PART_KEYS = new Set<string>(PartKey.options);
/** base64url of 32 and 64 bytes, unpadded (voter.schemas.ts, b64u). */
const INPUT_CHARS = Math.ceil((32 * 4) / 3);
const OUTPUT_CHARS = Math.ceil((64 * 4) / 3);
const B64U = /^[A-Za-z0-9_-]+$/;

type Answer = NonNullable<CastRequest['package'][PartKey]>;

function isPlain(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isB64u(v: unknown, length: number): v is string {
  return typeof v === 'string' && v.length === length && B64U.test(v);
}

function shortString(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length <= max;
}

/** An array of strings each passing `ok`, at most `max` of them (a plain loop: a hole is not a string). */
function strings(v: unknown, max: number, ok: (s: string) => boolean): v is string[] {
  if (!Array.isArray(v) || v.length > max) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== 'string' || !ok(v[i] as string)) return false;
  return true;
}

/** One of RatingAnswer, RecommendAnswer, CommentAnswer, VoidAnswer: strict objects, so exactly their keys. */
function partAnswer(v: unknown): Answer | null {
  if (!isPlain(v)) return null;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === 'grades') {
    const grades = v.grades;
    if (!isPlain(grades)) return null;
    const out: Record<string, string> = {};
    for (const subject of Object.keys(grades)) {
      const grade = grades[subject];
      // zod drops a "__proto__" key (JSON.parse makes it an own key); left to zod.
      if (subject === '__proto__' || !shortString(subject, 40) || !shortString(grade, 40)) return null;
      out[subject] = grade;
    }
    if (Object.getOwnPropertySymbols(grades).length > 0) return null;
    return { grades: out };
  }
  if (keys.length === 2 && keys.includes('picks') && keys.includes('writeIns')) {
    const { picks, writeIns } = v;
    if (!strings(picks, 20, (p) => p.length <= 40)) return null;
    // A write-in zod would trim is left to zod (rare: the page trims them).
    if (!strings(writeIns, 20, (w) => w.length >= 1 && w.length <= 30 && w.trim() === w)) return null;
    return { picks: [...picks], writeIns: [...writeIns] };
  }
  if (keys.length === 1 && keys[0] === 'text') return shortString(v.text, 2000) ? { text: v.text } : null;
  if (keys.length === 1 && keys[0] === 'void') return v.void === true ? { void: true } : null;
  return null;
}
