import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { writeFileOnce } from '../shared/files.ts';
import path from 'node:path';

/**
 * The server's archive signing key: Ed25519, made on first start and kept beside the database as
 * DATA_DIR/signing.key (PKCS#8 PEM, mode 0600). Its public key is printed on every report, so a
 * reader can check that an archive was signed by this township's server and not by someone else.
 */
export const SIGNING_KEY_FILE = 'signing.key';

export function loadOrCreateSigningKey(dataDir: string): KeyObject {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileOnce(file, String(privateKey.export({ type: 'pkcs8', format: 'pem' })));
  }
  chmodSync(file, 0o600);
  const key = createPrivateKey(readFileSync(file, 'utf8'));
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${file} is not an Ed25519 private key`);
  return key;
}

export function newSigningKey(): KeyObject {
  return generateKeyPairSync('ed25519').privateKey;
}

export interface PublicKeyInfo {
  publicKeyPem: string;
  /** First 16 hex digits of SHA-256 over the raw 32-byte public key, in groups of four: short enough to print and read aloud. */
  fingerprint: string;
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url');
}

export function fingerprintOf(publicKey: KeyObject): string {
  const hex = createHash('sha256').update(rawPublicKey(publicKey)).digest('hex').slice(0, 16).toUpperCase();
  return hex.match(/.{4}/g)!.join(' ');
}

export function publicKeyInfo(key: KeyObject): PublicKeyInfo {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return { publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), fingerprint: fingerprintOf(publicKey) };
}

/** Accepts '0123 4567 89ab cdef', '0123456789ABCDEF' and the like. */
export function normalizeFingerprint(input: string): string {
  const hex = input.replace(/[\s:-]/g, '').toUpperCase();
  return (hex.match(/.{1,4}/g) ?? []).join(' ');
}

export function signBytes(key: KeyObject, bytes: Buffer): string {
  return sign(null, bytes, key).toString('base64');
}

/** True only for a well-formed Ed25519 public key PEM and a valid signature in canonical base64. */
export function verifyBytes(publicKeyPem: string, bytes: Buffer, signature: string): { ok: true; fingerprint: string } | { ok: false; reason: string } {
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey(publicKeyPem);
  } catch {
    return { ok: false, reason: 'public key unreadable' };
  }
  if (publicKey.asymmetricKeyType !== 'ed25519') return { ok: false, reason: 'public key is not Ed25519' };
  // Node's base64 decoder skips stray characters and ignores spare bits; only the one canonical spelling is accepted.
  const sig = Buffer.from(signature, 'base64');
  if (sig.length !== 64 || sig.toString('base64') !== signature) return { ok: false, reason: 'signature is not 64 bytes of canonical base64' };
  if (!verify(null, bytes, publicKey, sig)) return { ok: false, reason: 'signature does not match' };
  return { ok: true, fingerprint: fingerprintOf(publicKey) };
}
