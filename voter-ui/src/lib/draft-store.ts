/**
 * Choices kept on the phone between visits, keyed by a hash of the credential (the credential itself
 * is never stored). When localStorage is missing or refuses, a memory copy still serves this visit.
 */
import { sha256Hex } from './sha256.ts';
import type { BallotPackage } from './types.ts';

export interface Draft {
  /** The phone's own 16-byte secret for this credential (base64url); made once, reused on every retry. */
  nonce: string;
  /** The voter's choices (checked against the form when read back). */
  answers: unknown;
  /** The part the voter was on. */
  part: number;
  /** The package as last sent: while set, a retry must send exactly this with the same nonce. */
  sent: BallotPackage | null;
}

export interface Receipt {
  receipt: string;
  rehearsal: boolean;
}

/** localStorage's methods; `key`/`length` let old entries be swept. */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> & Partial<Pick<Storage, 'key' | 'length'>>;

/** A meeting is one day: choices left on a (borrowed) phone go after two. Receipts stay for checking later. */
export const DRAFT_MAX_AGE_MS = 2 * 24 * 3600 * 1000;
export const RECEIPT_MAX_AGE_MS = 90 * 24 * 3600 * 1000;

const NONCE_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function newNonce(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  const bytes = random(new Uint8Array(16));
  let bin = '';
  for (let i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]!);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export class DraftStore {
  readonly #storage: KeyValueStorage | null;
  readonly #memory = new Map<string, string>();
  readonly #now: () => number;

  constructor(storage: KeyValueStorage | null, now: () => number = () => Date.now()) {
    this.#storage = storage;
    this.#now = now;
  }

  /** Remove this page's entries that have outlived their use (and any it cannot read). */
  sweep(): void {
    const s = this.#storage;
    if (!s || typeof s.key !== 'function' || typeof s.length !== 'number') return;
    try {
      const keys: string[] = [];
      for (let i = 0; i < s.length; i++) {
        const k = s.key(i);
        if (k && /^ceping\.(draft|receipt)\./.test(k)) keys.push(k);
      }
      for (const k of keys) {
        const entry = this.#read(k) as { savedAt?: unknown } | null;
        const maxAge = k.indexOf('ceping.draft.') === 0 ? DRAFT_MAX_AGE_MS : RECEIPT_MAX_AGE_MS;
        const savedAt = entry && typeof entry.savedAt === 'number' ? entry.savedAt : -Infinity;
        if (this.#now() - savedAt > maxAge) this.#remove(k);
      }
    } catch {
      // A storage that refuses to be listed keeps its entries; they hold no credential.
    }
  }

  static key(kind: 'draft' | 'receipt', credential: string): string {
    return `ceping.${kind}.${sha256Hex(`ceping-voter:${credential}`)}`;
  }

  loadDraft(credential: string): Draft | null {
    const d = this.#read(DraftStore.key('draft', credential));
    if (!d || typeof d !== 'object') return null;
    const draft = d as Partial<Draft>;
    if (typeof draft.nonce !== 'string' || !NONCE_PATTERN.test(draft.nonce)) return null;
    return {
      nonce: draft.nonce,
      answers: draft.answers ?? null,
      part: typeof draft.part === 'number' && draft.part >= 0 ? Math.floor(draft.part) : 0,
      sent: draft.sent && typeof draft.sent === 'object' ? draft.sent : null,
    };
  }

  saveDraft(credential: string, draft: Draft): void {
    this.#write(DraftStore.key('draft', credential), draft);
  }

  wipeDraft(credential: string): void {
    this.#remove(DraftStore.key('draft', credential));
  }

  loadReceipt(credential: string): Receipt | null {
    const r = this.#read(DraftStore.key('receipt', credential)) as Partial<Receipt> | null;
    return r && typeof r.receipt === 'string' ? { receipt: r.receipt, rehearsal: r.rehearsal === true } : null;
  }

  saveReceipt(credential: string, receipt: Receipt): void {
    this.#write(DraftStore.key('receipt', credential), receipt);
  }

  #read(key: string): unknown {
    let text: string | null | undefined = this.#memory.get(key);
    if (text === undefined) {
      try {
        text = this.#storage ? this.#storage.getItem(key) : null;
      } catch {
        text = null;
      }
    }
    if (!text) return null;
    try {
      return JSON.parse(text);
    } catch {
      return null;
    }
  }

  #write(key: string, value: object): void {
    const text = JSON.stringify({ ...value, savedAt: this.#now() });
    this.#memory.set(key, text);
    try {
      if (this.#storage) this.#storage.setItem(key, text);
    } catch {
      // Full or forbidden storage: the memory copy still covers this visit.
    }
  }

  #remove(key: string): void {
    this.#memory.delete(key);
    try {
      if (this.#storage) this.#storage.removeItem(key);
    } catch {
      // Nothing more can be done; the entry holds no credential.
    }
  }
}

/** localStorage when the browser lets the page use it, else null (some WebViews throw on access). */
export function browserStorage(kind: 'localStorage' | 'sessionStorage'): KeyValueStorage | null {
  try {
    const s = window[kind];
    const probe = '__ceping_probe__';
    s.setItem(probe, '1');
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}
