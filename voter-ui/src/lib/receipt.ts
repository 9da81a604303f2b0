/**
 * The receipt code a voter gets after submitting ("DV334-JH9HB": 10 symbols of the short-code
 * alphabet), and the page's own address for checking one ("#check"). Mirrors normalizeReceipt in
 * server/credentials/secrets.ts (a test keeps the two in step); a phone's keyboard may also give
 * full-width letters or another kind of dash, which are read the same way.
 */
import { CODE_ALPHABET } from './credential.ts';

export const RECEIPT_LENGTH = 10;

/** The fragment that opens the receipt check. Far from a 22-character token or an 8-symbol code. */
export const CHECK_HASH = '#check';

export function isCheckHash(hash: string): boolean {
  return /^#?\/?check\/?$/i.test(hash.trim());
}

/** Full-width to plain (NFKC, as the server does), upper case, without spaces or dashes of any kind. */
function squeeze(input: string): string {
  const plain = typeof input.normalize === 'function' ? input.normalize('NFKC') : input;
  return plain.toUpperCase().replace(/[\s\-_\u2010-\u2015\u2212\u30fc]/g, '');
}

/** "DV334-JH9HB" for anything the server would read as that receipt; null when it cannot be one. */
export function normalizeReceipt(input: string): string | null {
  const r = squeeze(input);
  if (r.length !== RECEIPT_LENGTH) return null;
  for (const c of r) if (CODE_ALPHABET.indexOf(c) < 0) return null;
  return `${r.slice(0, 5)}-${r.slice(5)}`;
}

export type ReceiptInput = { ok: true; receipt: string } | { ok: false; message: string };

/** What a typed receipt may be, with words for a voter who typed it wrong (nothing is sent then). */
export function checkTypedReceipt(input: string): ReceiptInput {
  const r = squeeze(input);
  if (r === '') return { ok: false, message: '请输入回执码' };
  for (const c of r) {
    if (CODE_ALPHABET.indexOf(c) < 0) return { ok: false, message: `回执码中不会出现「${c}」，请逐位核对` };
  }
  if (r.length !== RECEIPT_LENGTH) return { ok: false, message: `回执码共 ${RECEIPT_LENGTH} 位，您输入了 ${r.length} 位，请核对` };
  return { ok: true, receipt: normalizeReceipt(r)! };
}
