import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Random bytes come from a dependency so tests can pin them; production passes crypto.randomBytes. */
export type RandomSource = (bytes: number) => Buffer;

/** Letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L). 31 symbols: a prime. */
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
const P = CODE_ALPHABET.length;

/** A ticket's secret: 16 random bytes, base64url, carried in the QR's fragment. */
export const TICKET_BYTES = 16;
export const TICKET_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function newTicketSecret(random: RandomSource): string {
  return random(TICKET_BYTES).toString('base64url');
}

/** A random key for a row: hex of 16 random bytes, so storage order says nothing about insertion order. */
export function newRowId(random: RandomSource): string {
  return random(16).toString('hex');
}

function randomSymbols(random: RandomSource, n: number): string {
  // Rejection sampling keeps every symbol equally likely.
  let out = '';
  while (out.length < n) {
    for (const b of random(n * 2)) {
      if (b < 248 && out.length < n) out += CODE_ALPHABET[b % P];
    }
  }
  return out;
}

/** Weighted sum mod 31: catches every single wrong symbol and every swap of two neighbours. */
export function checkSymbol(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += (i + 1) * CODE_ALPHABET.indexOf(body[i]!);
  return CODE_ALPHABET[sum % P]!;
}

/** 7 random symbols and a check symbol. */
export function newShortCode(random: RandomSource): string {
  const body = randomSymbols(random, 7);
  return body + checkSymbol(body);
}

export function formatShortCode(code: string): string {
  return `${code.slice(0, 4)}-${code.slice(4)}`;
}

/** Upper-case, drop spaces and dashes; null when it cannot be a short code (bad symbol or check). */
export function normalizeShortCode(input: string): string | null {
  // NFKC first: a phone keyboard in full-width mode types ＡＢＣ－１２.
  const code = input.normalize('NFKC').toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== 8 || [...code].some((c) => !CODE_ALPHABET.includes(c))) return null;
  return checkSymbol(code.slice(0, 7)) === code[7] ? code : null;
}

/**
 * A receipt: 10 symbols derived from the token (never from the ticket), so a lost reply gets the same
 * one again and the receipt says nothing about who was handed what.
 */
export function receiptFromToken(pepper: Buffer, tokenInput: string): string {
  const mac = createHmac('sha256', pepper).update(`receipt:${tokenInput}`).digest();
  let out = '';
  for (let i = 0; out.length < 10; i++) out += CODE_ALPHABET[mac[i]! % P];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

export function normalizeReceipt(input: string): string | null {
  const r = input.normalize('NFKC').toUpperCase().replace(/[\s-]/g, '');
  if (r.length !== 10 || [...r].some((c) => !CODE_ALPHABET.includes(c))) return null;
  return `${r.slice(0, 5)}-${r.slice(5)}`;
}

/** Keyed hash of a secret: the database never holds a token, short code or receipt, and a copy of it alone cannot test guesses. */
export function hashSecret(
  pepper: Buffer,
  purpose: 'ticket' | 'code' | 'receipt' | 'retry' | 'session' | 'nullifier' | 'blinded' | 'access',
  value: string,
): string {
  return createHmac('sha256', pepper).update(`${purpose}:${value}`).digest('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** A meeting key's secret half as stored: 12-byte nonce ‖ 32-byte key encrypted with AES-256-GCM ‖ 16-byte tag. */
const WRAPPED_KEY_BYTES = 12 + 32 + 16;

/**
 * The meeting's secret key as ceping.db stores it: encrypted (AES-256-GCM, node:crypto) under a key derived
 * from secret.key and bound to its meeting and purpose, so a copy of the database alone, taken during
 * voting, cannot make tokens that would cast. The server holds the plain key in memory only.
 */
export function wrapMeetingKey(pepper: Buffer, meetingId: number, purpose: string, secretKey: Uint8Array): Buffer {
  // Never the injectable RandomSource: a nonce pinned by a test would repeat under one key.
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', wrappingKey(pepper), nonce);
  cipher.setAAD(Buffer.from(`${meetingId}:${purpose}`));
  const sealed = Buffer.concat([cipher.update(secretKey), cipher.final()]);
  return Buffer.concat([nonce, sealed, cipher.getAuthTag()]);
}

/**
 * The plain key of a stored one. A 32-byte value is a key stored in the clear by a version before the
 * wrapping (a meeting in sign-in or voting across the upgrade); anything else that does not open under
 * this secret.key, meeting and purpose throws.
 */
export function unwrapMeetingKey(pepper: Buffer, meetingId: number, purpose: string, stored: Uint8Array): Uint8Array {
  if (stored.length === 32) return stored;
  if (stored.length !== WRAPPED_KEY_BYTES) throw new Error('meeting key: unexpected stored length');
  const decipher = createDecipheriv('aes-256-gcm', wrappingKey(pepper), stored.subarray(0, 12));
  decipher.setAAD(Buffer.from(`${meetingId}:${purpose}`));
  decipher.setAuthTag(stored.subarray(12 + 32));
  return new Uint8Array(Buffer.concat([decipher.update(stored.subarray(12, 12 + 32)), decipher.final()]));
}

function wrappingKey(pepper: Buffer): Buffer {
  return createHmac('sha256', pepper).update('meeting-key-wrap').digest();
}
