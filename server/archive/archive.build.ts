import { createHash, type KeyObject } from 'node:crypto';
import type { RandomSource } from '../credentials/secrets.ts';
import { canonicalJson } from './canonical.ts';
import { publicKeyInfo, signBytes } from './signing.ts';
import {
  MEETING_ARCHIVE_FORMAT, MEETING_ARCHIVE_VERSION, YEAR_ARCHIVE_FORMAT,
  type ArchiveRecord, type SignedArchive, type YearArchive, type YearManifest,
} from './archive.schemas.ts';

/** Uniform integer in [0, n) from the random source (rejection sampling: no modulo bias). */
export function randomBelow(random: RandomSource, n: number): number {
  if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`randomBelow(${n})`);
  const limit = Math.floor(2 ** 32 / n) * n;
  for (;;) {
    const v = random(4).readUInt32BE(0);
    if (v < limit) return v % n;
  }
}

/** A Fisher–Yates shuffle into a new array. */
export function shuffled<T>(items: readonly T[], random: RandomSource): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomBelow(random, i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

export type ArchiveContent = Omit<ArchiveRecord, 'format' | 'version' | 'signer'>;

/**
 * The record of one sealed meeting. The ballots are shuffled here, whatever order they come in:
 * the storage order (by random key) must not be recoverable from the file either.
 */
export function buildArchiveRecord(content: ArchiveContent, key: KeyObject, random: RandomSource): ArchiveRecord {
  const { publicKeyPem, fingerprint } = publicKeyInfo(key);
  return {
    format: MEETING_ARCHIVE_FORMAT,
    version: MEETING_ARCHIVE_VERSION,
    ...content,
    ballots: shuffled(content.ballots, random),
    signer: { publicKeyPem, fingerprint },
  };
}

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 over the canonical JSON, and an Ed25519 signature over the same bytes. */
export function sealValue(value: unknown, key: KeyObject): { canonical: string; sha256: string; signature: string } {
  const canonical = canonicalJson(value);
  const bytes = Buffer.from(canonical, 'utf8');
  return { canonical, sha256: sha256Hex(bytes), signature: signBytes(key, bytes) };
}

export function signArchive(record: ArchiveRecord, key: KeyObject): SignedArchive & { canonical: string } {
  const { canonical, sha256, signature } = sealValue(record, key);
  return { record: record as unknown as Record<string, unknown>, sha256, signature, canonical };
}

export function signYearArchive(manifest: Omit<YearManifest, 'signer'>, archives: SignedArchive[], key: KeyObject): YearArchive {
  const full: YearManifest = { ...manifest, signer: publicKeyInfo(key) };
  const { sha256, signature } = sealValue(full, key);
  return { format: YEAR_ARCHIVE_FORMAT, version: 1, manifest: full as unknown as Record<string, unknown>, sha256, signature, archives };
}

/**
 * A file's text: the canonical JSON of the whole file and one newline. Verify insists on exactly this
 * spelling, so that changing any byte of a file (even one that a JSON parser would forgive) fails.
 */
export function archiveFileText(file: SignedArchive | YearArchive): string {
  const { record, sha256, signature } = file as SignedArchive;
  const value = 'archives' in file ? file : { record, sha256, signature };
  return `${canonicalJson(value)}\n`;
}
