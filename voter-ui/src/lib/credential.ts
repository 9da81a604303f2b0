/**
 * The voter's credential: the 22-character secret from the QR code's fragment, or the 8-character
 * short code typed by hand. Mirrors server/credentials/secrets.ts (a test keeps the two in step);
 * that module uses node:crypto, so the page cannot import it.
 */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';

export function checkSymbol(body: string): string {
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += (i + 1) * CODE_ALPHABET.indexOf(body.charAt(i));
  return CODE_ALPHABET.charAt(sum % CODE_ALPHABET.length);
}

/** Upper-case, drop spaces and dashes; null when it cannot be a short code (bad symbol or check). */
export function normalizeShortCode(input: string): string | null {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== 8) return null;
  for (const c of code) if (CODE_ALPHABET.indexOf(c) < 0) return null;
  return checkSymbol(code.slice(0, 7)) === code.charAt(7) ? code : null;
}

export type CodeCheck = { ok: true; credential: string } | { ok: false; message: string };

/** What a hand-typed code may be, with words for a voter who typed it wrong. */
export function checkTypedCode(input: string): CodeCheck {
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code === '') return { ok: false, message: '请输入测评码' };
  if (TOKEN_PATTERN.test(input.trim())) return { ok: true, credential: input.trim() };
  if (code.length !== 8) return { ok: false, message: `测评码共 8 位，您输入了 ${code.length} 位，请核对` };
  for (const c of code) {
    if (CODE_ALPHABET.indexOf(c) < 0) return { ok: false, message: `测评码中不会出现「${c}」，请逐位核对` };
  }
  const normalized = normalizeShortCode(code);
  return normalized ? { ok: true, credential: normalized } : { ok: false, message: '测评码有误，请逐位核对后重新输入' };
}

/** The credential in a location hash ("#TOKEN"), or null when there is none or it is not one. */
export function credentialFromHash(hash: string): string | null {
  let raw = hash.replace(/^#/, '').trim();
  try {
    raw = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (TOKEN_PATTERN.test(raw)) return raw;
  return normalizeShortCode(raw);
}
