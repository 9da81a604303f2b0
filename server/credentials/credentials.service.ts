import type { DbOrTrx } from '../db/database.ts';
import type { CredentialKind } from '../db/schema.ts';
import { voterUrl } from '../net.ts';
import * as repo from './credentials.repository.ts';
import {
  formatShortCode, hashSecret, newRowId, newShortCode, newToken, normalizeShortCode, TOKEN_PATTERN, type RandomSource,
} from './secrets.ts';

export interface IssuedCredential {
  /** The secret of the QR; shown once, stored nowhere but as a keyed hash. */
  token: string;
  /** 8 symbols for a phone that cannot scan, shown as XXXX-XXXX. */
  shortCode: string;
  url: string;
}

export interface CredentialDeps {
  pepper: Buffer;
  random: RandomSource;
  baseUrl: string;
}

/** Make one credential. Nothing about who receives it is stored: the row holds hashes, a kind and a random key. */
export async function issueCredential(db: DbOrTrx, deps: CredentialDeps, meetingId: number, kind: CredentialKind): Promise<IssuedCredential> {
  for (let attempt = 0; ; attempt++) {
    const token = newToken(deps.random);
    const code = newShortCode(deps.random);
    try {
      await repo.insertCredential(db, {
        id: newRowId(deps.random),
        meetingId,
        kind,
        tokenHash: hashSecret(deps.pepper, 'token', token),
        codeHash: hashSecret(deps.pepper, 'code', code),
      });
      return { token, shortCode: formatShortCode(code), url: voterUrl(deps.baseUrl, token) };
    } catch (e) {
      // A short code can collide (34 bits); draw again rather than fail the sign-in desk.
      if (attempt >= 4 || !String(e).includes('UNIQUE')) throw e;
    }
  }
}

/** Find the credential a phone presents: the QR secret or the typed short code. */
export async function findCredential(db: DbOrTrx, pepper: Buffer, presented: string) {
  const s = presented.trim();
  if (TOKEN_PATTERN.test(s)) {
    const byToken = await repo.findCredentialByHash(db, { tokenHash: hashSecret(pepper, 'token', s) });
    if (byToken) return byToken;
  }
  const code = normalizeShortCode(s);
  if (!code) return undefined;
  return repo.findCredentialByHash(db, { codeHash: hashSecret(pepper, 'code', code) });
}
