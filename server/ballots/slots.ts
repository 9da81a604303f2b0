/**
 * Ballot slots. Every ballot of a meeting is stored in a row of one fixed size, made empty before it is
 * needed and filled in place at a randomly chosen free one. SQLite overwrites a same-size record where
 * it lies, so neither the order of rows nor the bytes of any page say which ballot came first.
 * (tests/api/anonymity.test.ts reads the raw file to check this.)
 */
import type { Form } from '../forms/form.schemas.ts';

/**
 * Worst-case bytes of one UTF-16 unit of free text as JSON in UTF-8: three for a character of the
 * Basic Multilingual Plane (two for an escaped quote, backslash, tab or newline; four for a pair of
 * surrogates). validate-package drops the other control characters, which would take six.
 */
const TEXT_BYTES_PER_UNIT = 3;
/** Room for the JSON punctuation and keys around the parts. */
const SLACK = 256;

/**
 * An upper bound of the bytes of any valid package of this form as JSON (validate-package's output),
 * rounded up to a multiple of 64. Checked against random and extreme packages in the tests.
 */
export function slotBytes(form: Form): number {
  let n = SLACK;
  for (const part of form.parts) {
    n += 32;
    switch (part.kind) {
      case 'rating': {
        const grade = Math.max('abstain'.length, ...part.grades.map((g) => g.key.length));
        for (const s of part.subjects) n += s.key.length + grade + 6;
        break;
      }
      case 'recommend': {
        const key = Math.max(0, ...part.candidates.map((c) => c.key.length));
        // Picks and write-ins together never exceed maxPicks; write-ins are at most 30 units each.
        n += part.maxPicks * (Math.max(key, 30 * TEXT_BYTES_PER_UNIT) + 3);
        break;
      }
      case 'comment':
        n += part.maxLength * TEXT_BYTES_PER_UNIT;
        break;
    }
  }
  return Math.ceil(n / 64) * 64;
}

/** The package's JSON as the slot's bytes, padded with zeros to the slot's size. */
export function encodeSlot(packageJson: string, size: number): Buffer {
  const body = Buffer.alloc(size);
  const written = body.write(packageJson, 'utf8');
  if (Buffer.byteLength(packageJson, 'utf8') !== written || written >= size) {
    throw new Error(`ballot of ${Buffer.byteLength(packageJson)} bytes does not fit a slot of ${size}`);
  }
  return body;
}

/** The package's JSON back from a slot (JSON never holds a raw NUL, so the first one ends it). */
export function decodeSlot(body: Uint8Array): string {
  const buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}

/** Slots are made in batches of at least this many, so a batch says little about one sign-in. */
export const SLOT_BATCH = 16;
