import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkSymbol,
  CODE_ALPHABET,
  formatShortCode,
  hashSecret,
  newRowId,
  newShortCode,
  newTicketSecret,
  normalizeReceipt,
  normalizeShortCode,
  receiptFromToken,
  safeEqual,
  TICKET_PATTERN,
  type RandomSource,
} from '../../server/credentials/secrets.ts';

/** A RandomSource that hands out the given bytes in order (then zeros). */
function fixedBytes(bytes: number[]): RandomSource {
  let i = 0;
  return (n) => Buffer.from(Array.from({ length: n }, () => bytes[i++] ?? 0));
}

/** A RandomSource driven by fast-check bytes. */
const arbRandom = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 64, maxLength: 64 }).map((bytes) => fixedBytes(bytes));
const arbBody = fc.array(fc.constantFrom(...CODE_ALPHABET), { minLength: 7, maxLength: 7 }).map((a) => a.join(''));
const arbCode = arbBody.map((b) => b + checkSymbol(b));

describe('CODE_ALPHABET', () => {
  it('has 31 distinct symbols and none of the easily confused 0 O 1 I L', () => {
    expect(CODE_ALPHABET).toHaveLength(31);
    expect(new Set(CODE_ALPHABET).size).toBe(31);
    for (const c of '0O1IL') expect(CODE_ALPHABET).not.toContain(c);
    expect(CODE_ALPHABET).toMatch(/^[2-9A-Z]+$/);
  });
});

describe('newShortCode', () => {
  it('is 8 symbols from the alphabet, the last a valid check symbol', () => {
    for (let i = 0; i < 200; i++) {
      const code = newShortCode(randomBytes);
      expect(code).toHaveLength(8);
      expect([...code].every((c) => CODE_ALPHABET.includes(c))).toBe(true);
      expect(normalizeShortCode(code)).toBe(code);
    }
  });

  it('property: for any random bytes, a well-formed code', () => {
    fc.assert(
      fc.property(arbRandom, (random) => {
        const code = newShortCode(random);
        expect(code).toMatch(new RegExp(`^[${CODE_ALPHABET}]{8}$`));
        expect(code[7]).toBe(checkSymbol(code.slice(0, 7)));
      }),
    );
  });

  it('maps byte b to symbol b mod 31 and skips bytes 248..255 (no bias)', () => {
    const code = newShortCode(fixedBytes([255, 248, 0, 1, 30, 31, 247, 249, 62, 93]));
    expect(code.slice(0, 7)).toBe(
      [0, 1, 30, 31, 247, 62, 93].map((b) => CODE_ALPHABET[b % 31]).join(''),
    );
  });

  it('asks for more bytes when too many were rejected', () => {
    const code = newShortCode(fixedBytes([...Array.from({ length: 14 }, () => 250), 2, 3, 4, 5, 6, 7, 8]));
    expect(code.slice(0, 7)).toBe([2, 3, 4, 5, 6, 7, 8].map((b) => CODE_ALPHABET[b]).join(''));
  });

  it('different random bytes give different codes', () => {
    const codes = new Set(Array.from({ length: 1000 }, () => newShortCode(randomBytes)));
    expect(codes.size).toBe(1000);
  });
});

describe('normalizeShortCode', () => {
  it('accepts lower case, dashes and spaces', () => {
    fc.assert(
      fc.property(arbCode, (code) => {
        expect(normalizeShortCode(code.toLowerCase())).toBe(code);
        expect(normalizeShortCode(formatShortCode(code))).toBe(code);
        expect(normalizeShortCode(formatShortCode(code).toLowerCase())).toBe(code);
        expect(normalizeShortCode(` ${code.slice(0, 2)} ${code.slice(2, 5)}-${code.slice(5)} `)).toBe(code);
        expect(normalizeShortCode(code.split('').join(' '))).toBe(code);
      }),
    );
  });

  it('formatShortCode splits 4-4 with a dash', () => {
    expect(formatShortCode('ABCDEFGH')).toBe('ABCD-EFGH');
  });

  it('rejects wrong lengths and symbols outside the alphabet', () => {
    fc.assert(
      fc.property(arbCode, fc.constantFrom('0', 'O', '1', 'I', 'L', '!', '中', '_'), fc.nat({ max: 7 }), (code, bad, i) => {
        expect(normalizeShortCode(code.slice(0, i) + bad + code.slice(i + 1))).toBeNull();
      }),
    );
    expect(normalizeShortCode('')).toBeNull();
    const code = newShortCode(randomBytes);
    expect(normalizeShortCode(code.slice(0, 7))).toBeNull();
    expect(normalizeShortCode(code + '2')).toBeNull();
  });

  it('property: rejects every single-symbol substitution', () => {
    fc.assert(
      fc.property(arbCode, (code) => {
        for (let i = 0; i < 8; i++) {
          for (const c of CODE_ALPHABET) {
            if (c === code[i]) continue;
            const wrong = code.slice(0, i) + c + code.slice(i + 1);
            if (normalizeShortCode(wrong) !== null) throw new Error(`accepted ${wrong} for ${code}`);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('property: rejects every adjacent transposition (check symbol included)', () => {
    fc.assert(
      fc.property(arbCode, (code) => {
        for (let i = 0; i < 7; i++) {
          if (code[i] === code[i + 1]) continue;
          const swapped = code.slice(0, i) + code[i + 1] + code[i] + code.slice(i + 2);
          expect(normalizeShortCode(swapped)).toBeNull();
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('exhaustively: no pair of different symbols swapped between neighbouring body positions is accepted', () => {
    // The check is a weighted sum, so the other symbols cannot matter: fill them with '2'.
    for (let i = 0; i < 6; i++) {
      for (const a of CODE_ALPHABET) {
        for (const b of CODE_ALPHABET) {
          if (a === b) continue;
          const body = `${'2'.repeat(i)}${a}${b}${'2'.repeat(5 - i)}`;
          const swapped = `${'2'.repeat(i)}${b}${a}${'2'.repeat(5 - i)}${checkSymbol(body)}`;
          if (normalizeShortCode(swapped) !== null) throw new Error(`accepted ${swapped} for ${body}`);
        }
      }
    }
  });
});

describe('receipts', () => {
  const pepper = Buffer.from('0123456789abcdef0123456789abcdef');

  it('is XXXXX-XXXXX from the alphabet, and the same for the same nonce', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 60 }), (nonce) => {
        const r = receiptFromToken(pepper, nonce);
        expect(r).toMatch(new RegExp(`^[${CODE_ALPHABET}]{5}-[${CODE_ALPHABET}]{5}$`));
        expect(receiptFromToken(pepper, nonce)).toBe(r);
        expect(normalizeReceipt(r)).toBe(r);
        expect(normalizeReceipt(r.toLowerCase().replace('-', ' '))).toBe(r);
      }),
    );
  });

  it('differs across nonces and across peppers', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ minLength: 1, maxLength: 30 }), { minLength: 2, maxLength: 50 }), (nonces) => {
        const receipts = nonces.map((n) => receiptFromToken(pepper, n));
        expect(new Set(receipts).size).toBe(nonces.length);
      }),
    );
    const many = new Set(Array.from({ length: 2000 }, (_, i) => receiptFromToken(pepper, `nonce-${i}`)));
    expect(many.size).toBe(2000);
    expect(receiptFromToken(Buffer.from('another pepper'), 'n1')).not.toBe(receiptFromToken(pepper, 'n1'));
  });

  it('normalizeReceipt rejects wrong lengths and symbols', () => {
    expect(normalizeReceipt('ABCDE-FGHJ')).toBeNull();
    expect(normalizeReceipt('ABCDE-FGHJKM')).toBeNull();
    expect(normalizeReceipt('ABCDE-FGHJ0')).toBeNull();
    expect(normalizeReceipt('abcde fghjk')).toBe('ABCDE-FGHJK');
  });
});

describe('hashSecret', () => {
  const p1 = Buffer.from('pepper-one-pepper-one-pepper-one');
  const p2 = Buffer.from('pepper-two-pepper-two-pepper-two');
  const purposes = ['ticket', 'code', 'receipt', 'retry', 'session', 'nullifier', 'blinded', 'access'] as const;

  it('is deterministic and base64url', () => {
    expect(hashSecret(p1, 'code', 'ABCD2345')).toBe(hashSecret(p1, 'code', 'ABCD2345'));
    expect(hashSecret(p1, 'code', 'ABCD2345')).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('differs by purpose, pepper and value', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (value) => {
        const byPurpose = purposes.map((p) => hashSecret(p1, p, value));
        expect(new Set(byPurpose).size).toBe(purposes.length);
        for (const p of purposes) expect(hashSecret(p1, p, value)).not.toBe(hashSecret(p2, p, value));
        expect(hashSecret(p1, 'ticket', value)).not.toBe(hashSecret(p1, 'ticket', `${value}x`));
      }),
    );
  });

  it('never contains the secret', () => {
    const code = 'ABCD2345';
    expect(hashSecret(p1, 'code', code)).not.toContain(code);
  });
});

describe('tokens and row ids', () => {
  it('newTicketSecret matches TICKET_PATTERN; newRowId is 32 hex characters', () => {
    for (let i = 0; i < 50; i++) {
      expect(newTicketSecret(randomBytes)).toMatch(TICKET_PATTERN);
      expect(newRowId(randomBytes)).toMatch(/^[0-9a-f]{32}$/);
    }
  });

  it('safeEqual compares whole strings', () => {
    expect(safeEqual('abc', 'abc')).toBe(true);
    expect(safeEqual('abc', 'abd')).toBe(false);
    expect(safeEqual('abc', 'abcd')).toBe(false);
    expect(safeEqual('', '')).toBe(true);
    expect(safeEqual('中', '中')).toBe(true);
  });
});

describe('the check symbol, worked by hand', () => {
  it('is the weighted sum of the symbols\' positions in the alphabet, mod 31', () => {
    // 2222222: every symbol is 0 → sum 0 → '2'.
    expect(checkSymbol('2222222')).toBe('2');
    expect(normalizeShortCode('2222-2222')).toBe('22222222');
    // 3456789: symbols 1..7, weights 1..7 → 1 + 4 + 9 + 16 + 25 + 36 + 49 = 140 = 4·31 + 16 → the 17th symbol, 'J'.
    expect(checkSymbol('3456789')).toBe('J');
    expect(normalizeShortCode('3456-789J')).toBe('3456789J');
    expect(normalizeShortCode('3456-789K')).toBeNull();
  });
});
