import { createHmac, type KeyObject } from 'node:crypto';
import type { Db } from './database.ts';
import { publicKeyInfo } from '../archive/signing.ts';

/**
 * Several server processes on one PostgreSQL database must hold the same two key files: a process with
 * another secret.key finds no ticket, no short code and no spent token the others wrote (every phone it
 * serves is refused), and one with another signing.key seals archives that do not verify against the
 * printed fingerprint. The first process records a check value of its keys in the database; a process
 * whose keys differ refuses to start. The value is a keyed hash under the secret (it tells nothing about
 * the secret and cannot be used to test guessed codes) and the archive key's public fingerprint.
 */
export const KEY_CHECK_SETTING = 'key_check';

export function keyCheckValue(pepper: Buffer, signingKey: KeyObject): string {
  return `${createHmac('sha256', pepper).update('ceping key check').digest('hex').slice(0, 32)} ${publicKeyInfo(signingKey).fingerprint}`;
}

/** Record this process's keys if none are recorded; an error message (Chinese / English) when they differ. */
export async function checkKeysAgainstDatabase(db: Db, pepper: Buffer, signingKey: KeyObject): Promise<string | null> {
  const mine = keyCheckValue(pepper, signingKey);
  await db.insertInto('settings').values({ key: KEY_CHECK_SETTING, value: mine }).onConflict((oc) => oc.column('key').doNothing()).execute();
  const row = await db.selectFrom('settings').select('value').where('key', '=', KEY_CHECK_SETTING).executeTakeFirstOrThrow();
  if (row.value === mine) return null;
  return (
    '数据目录中的密钥文件（secret.key、signing.key）与这个数据库的其他服务器进程不同：请把第一台服务器数据目录中的这两个文件复制过来。\n' +
    `The key files in this data folder (secret.key, signing.key) differ from those the other server processes of this database use: copy both from the first server's data folder.`
  );
}
