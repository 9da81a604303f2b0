import { scrypt as scryptCallback, randomBytes, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { DomainError } from '../errors.ts';
import type { RandomSource } from '../credentials/secrets.ts';

export const MIN_PASSWORD_LENGTH = 8;
/** scrypt hashes any length, but a cap keeps a hostile request body from costing more than it must. */
export const MAX_PASSWORD_LENGTH = 256;

/**
 * r = 8, p = 2 with N = 2^16 (SCRYPT_LOG_N's default): 64 MiB per check, where N = 2^17 with p = 1 took
 * 128 MiB (0.47 s against 0.71 s on the 2-core machine: the smaller array stays closer to the caches).
 * OWASP's Password Storage Cheat Sheet lists the two as equal choices; the smaller one keeps a township
 * server's memory peak near 200 MB through a login (bench/README.md).
 * Hashes made with other parameters still verify, and are made again at the next good login (needsRehash).
 */
const R = 8;
const P = 2;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** A cap, not an allocation: N = 2^17, r = 8 (hashes made before p = 2) needs 128 MiB; grow with larger parameters read from a stored hash. */
const MIN_MAXMEM = 256 * 1024 * 1024;

function scrypt(password: string, salt: Buffer, keylen: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCallback(password, salt, keylen, options, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

function scryptOptions(logN: number, r: number, p: number): ScryptOptions {
  const N = 2 ** logN;
  return { N, r, p, maxmem: Math.max(MIN_MAXMEM, 2 * 128 * N * r * p) };
}

/**
 * NFKC folds full-width letters and digits (a Chinese IME left in full-width mode) to their ASCII
 * forms, so the same keys typed in either mode give the same password.
 */
function normalize(password: string): string {
  return password.normalize('NFKC');
}

/** Throws PASSWORD_WEAK when a new password is too short or too long. */
export function assertPasswordPolicy(password: string): void {
  const length = [...normalize(password)].length;
  if (length < MIN_PASSWORD_LENGTH) {
    throw new DomainError('PASSWORD_WEAK', `密码至少需要 ${MIN_PASSWORD_LENGTH} 个字符`);
  }
  if (length > MAX_PASSWORD_LENGTH) {
    throw new DomainError('PASSWORD_WEAK', `密码不能超过 ${MAX_PASSWORD_LENGTH} 个字符`);
  }
}

/** 'scrypt$<logN>$<r>$<p>$<salt b64>$<hash b64>': the parameters travel with the hash, so raising logN later keeps old hashes verifiable. */
export async function hashPassword(password: string, logN: number, random: RandomSource = randomBytes): Promise<string> {
  const salt = random(SALT_BYTES);
  const key = await scrypt(normalize(password), salt, KEY_BYTES, scryptOptions(logN, R, P));
  return ['scrypt', logN, R, P, salt.toString('base64'), key.toString('base64')].join('$');
}

interface ParsedHash {
  logN: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

const INT = /^[1-9][0-9]{0,2}$/;

function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, logN, r, p, salt, key] = parts as [string, string, string, string, string, string];
  if (!INT.test(logN) || !INT.test(r) || !INT.test(p)) return null;
  const parsed = { logN: Number(logN), r: Number(r), p: Number(p), salt: Buffer.from(salt, 'base64'), key: Buffer.from(key, 'base64') };
  // Bounds keep a damaged or planted row from asking for gigabytes of memory.
  if (parsed.logN < 10 || parsed.logN > 20 || parsed.r > 32 || parsed.p > 16) return null;
  if (parsed.salt.length < 8 || parsed.key.length < 16) return null;
  return parsed;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const h = parseHash(stored);
  if (!h || password.length > MAX_PASSWORD_LENGTH * 4) return false;
  const key = await scrypt(normalize(password), h.salt, h.key.length, scryptOptions(h.logN, h.r, h.p));
  return timingSafeEqual(key, h.key);
}

/** True when a stored hash was made with other parameters than the current ones (re-hash it on the next good login). */
export function needsRehash(stored: string, logN: number): boolean {
  const h = parseHash(stored);
  return !h || h.logN !== logN || h.r !== R || h.p !== P || h.key.length !== KEY_BYTES;
}
