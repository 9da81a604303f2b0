/**
 * What the phone keeps between visits, in localStorage (a memory copy serves the visit when the browser
 * refuses storage):
 * - the blinding made for a ticket, before its redemption is sent (a lost reply is resent as it was);
 * - the token the redemption gave, and the meeting key it was checked against (pinned per meeting);
 * - the voter's choices (the draft) and, once cast, the receipt — keyed by a hash of the token.
 * The ticket itself is never stored, only a hash of it, so a second scan of the same QR finds its token.
 */
import { sha256Hex } from './sha256.ts';
import type { BallotPackage } from './types.ts';
import type { Blinding } from './token-crypto.ts';

export interface Draft {
  /** The voter's choices (checked against the form when read back). */
  answers: unknown;
  /** Where the voter was: a part's index, or -1 for the review. */
  part: number;
  /** Parts the voter has opened (a blank part is allowed only once seen). */
  seen: string[];
  /** The package as last sent: while set, a retry must send exactly this with the same token. */
  sent: BallotPackage | null;
}

/** A token and what the phone needs to use it. */
export interface StoredToken {
  meetingId: number;
  access: string;
  unitName: string;
  rehearsal: boolean;
  input: string;
  output: string;
  /** The meeting key it was checked against (base64url) and its fingerprint, as shown on the projector. */
  publicKey: string;
  fingerprint: string;
  /** The server made this token for a phone without BigInt (no proof could be checked). */
  assisted: boolean;
  /** A hash of the ticket it came from, so scanning the same QR again resumes it. */
  ticketKey: string;
}

export interface Receipt {
  receipt: string;
  rehearsal: boolean;
  /** The ticket it was cast with (a hash): scanning that QR again shows this receipt. */
  ticketKey?: string;
}

/** localStorage's methods; `key`/`length` let old entries be swept. */
export type KeyValueStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'> & Partial<Pick<Storage, 'key' | 'length'>>;

/** A meeting is one day: choices and tokens left on a (borrowed) phone go after two. Receipts and pinned keys stay longer. */
export const DRAFT_MAX_AGE_MS = 2 * 24 * 3600 * 1000;
export const RECEIPT_MAX_AGE_MS = 90 * 24 * 3600 * 1000;

type Kind = 'pending' | 'token' | 'draft' | 'receipt' | 'key';
const SHORT_LIVED: Kind[] = ['pending', 'token', 'draft'];
const B64U = /^[A-Za-z0-9_-]+$/;

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
    for (const k of this.#keys()) {
      const entry = this.#read(k) as { savedAt?: unknown } | null;
      const kind = k.split('.')[1] as Kind;
      const maxAge = SHORT_LIVED.indexOf(kind) >= 0 ? DRAFT_MAX_AGE_MS : RECEIPT_MAX_AGE_MS;
      const savedAt = entry && typeof entry.savedAt === 'number' ? entry.savedAt : -Infinity;
      if (this.#now() - savedAt > maxAge) this.#remove(k);
    }
  }

  static key(kind: Kind, id: string): string {
    return `ceping.${kind}.${sha256Hex(`ceping-voter:${kind}:${id}`)}`;
  }

  // ---------------------------------------------------------------- before and after redemption

  loadPending(ticket: string): Blinding | null {
    const p = this.#read(DraftStore.key('pending', ticket)) as Partial<Blinding> | null;
    if (!p || ![p.input, p.blind, p.blinded].every((v) => typeof v === 'string' && B64U.test(v))) return null;
    return { input: p.input!, blind: p.blind!, blinded: p.blinded! };
  }

  savePending(ticket: string, b: Blinding): void {
    this.#write(DraftStore.key('pending', ticket), b);
  }

  wipePending(ticket: string): void {
    this.#remove(DraftStore.key('pending', ticket));
  }

  loadToken(input: string): StoredToken | null {
    return this.#token(this.#read(DraftStore.key('token', input)));
  }

  saveToken(t: StoredToken): void {
    this.#write(DraftStore.key('token', t.input), t);
  }

  wipeToken(input: string): void {
    this.#remove(DraftStore.key('token', input));
  }

  /** The token made from this ticket on this phone, if any. */
  tokenForTicket(ticket: string): StoredToken | null {
    const ticketKey = DraftStore.ticketKey(ticket);
    return this.#tokens().find((t) => t.ticketKey === ticketKey) ?? null;
  }

  /** The most recently used token this phone still holds (a reload that lost the tab's memory). */
  latestToken(): StoredToken | null {
    let best: { t: StoredToken; at: number } | null = null;
    for (const k of this.#keys('token')) {
      const raw = this.#read(k) as { savedAt?: number } | null;
      const t = this.#token(raw);
      if (t && (!best || (raw!.savedAt ?? 0) > best.at)) best = { t, at: raw!.savedAt ?? 0 };
    }
    return best ? best.t : null;
  }

  static ticketKey(ticket: string): string {
    return sha256Hex(`ceping-voter:ticket:${ticket}`);
  }

  /** The key first seen for this meeting (and purpose): a different one later is refused. */
  pinnedKey(meetingId: number, rehearsal: boolean): string | null {
    const k = this.#read(DraftStore.key('key', `${meetingId}:${rehearsal ? 'rehearsal' : 'vote'}`)) as { publicKey?: unknown } | null;
    return k && typeof k.publicKey === 'string' ? k.publicKey : null;
  }

  pinKey(meetingId: number, rehearsal: boolean, publicKey: string): void {
    this.#write(DraftStore.key('key', `${meetingId}:${rehearsal ? 'rehearsal' : 'vote'}`), { publicKey });
  }

  // ---------------------------------------------------------------- choices and receipts, per token

  loadDraft(tokenInput: string): Draft | null {
    const d = this.#read(DraftStore.key('draft', tokenInput));
    if (!d || typeof d !== 'object') return null;
    const draft = d as Partial<Draft>;
    return {
      answers: draft.answers ?? null,
      part: typeof draft.part === 'number' && draft.part >= -1 ? Math.floor(draft.part) : 0,
      seen: Array.isArray(draft.seen) ? draft.seen.filter((x): x is string => typeof x === 'string') : [],
      sent: draft.sent && typeof draft.sent === 'object' ? draft.sent : null,
    };
  }

  saveDraft(tokenInput: string, draft: Draft): void {
    this.#write(DraftStore.key('draft', tokenInput), draft);
  }

  wipeDraft(tokenInput: string): void {
    this.#remove(DraftStore.key('draft', tokenInput));
  }

  loadReceipt(tokenInput: string): Receipt | null {
    return this.#receipt(this.#read(DraftStore.key('receipt', tokenInput)));
  }

  /** The receipt this phone got for the ballot cast with this ticket's token, if any. */
  receiptForTicket(ticket: string): Receipt | null {
    const ticketKey = DraftStore.ticketKey(ticket);
    for (const k of this.#keys('receipt')) {
      const r = this.#receipt(this.#read(k));
      if (r && r.ticketKey === ticketKey) return r;
    }
    return null;
  }

  #receipt(raw: unknown): Receipt | null {
    const r = raw as Partial<Receipt> | null;
    if (!r || typeof r.receipt !== 'string') return null;
    return { receipt: r.receipt, rehearsal: r.rehearsal === true, ...(typeof r.ticketKey === 'string' ? { ticketKey: r.ticketKey } : {}) };
  }

  saveReceipt(tokenInput: string, receipt: Receipt): void {
    this.#write(DraftStore.key('receipt', tokenInput), receipt);
  }

  // ---------------------------------------------------------------- storage

  #token(raw: unknown): StoredToken | null {
    const t = raw as Partial<StoredToken> | null;
    if (!t || typeof t.meetingId !== 'number' || typeof t.access !== 'string') return null;
    if (![t.input, t.output, t.publicKey].every((v) => typeof v === 'string' && B64U.test(v))) return null;
    return {
      meetingId: t.meetingId,
      access: t.access,
      unitName: typeof t.unitName === 'string' ? t.unitName : '',
      rehearsal: t.rehearsal === true,
      input: t.input!,
      output: t.output!,
      publicKey: t.publicKey!,
      fingerprint: typeof t.fingerprint === 'string' ? t.fingerprint : '',
      assisted: t.assisted === true,
      ticketKey: typeof t.ticketKey === 'string' ? t.ticketKey : '',
    };
  }

  #tokens(): StoredToken[] {
    const out: StoredToken[] = [];
    for (const k of this.#keys('token')) {
      const t = this.#token(this.#read(k));
      if (t) out.push(t);
    }
    return out;
  }

  /** This page's keys (of one kind), from storage and from the memory copy. */
  #keys(kind?: Kind): string[] {
    const prefix = kind ? `ceping.${kind}.` : 'ceping.';
    const keys = new Set<string>();
    for (const k of this.#memory.keys()) if (k.indexOf(prefix) === 0) keys.add(k);
    const s = this.#storage;
    if (s && typeof s.key === 'function' && typeof s.length === 'number') {
      try {
        for (let i = 0; i < s.length; i++) {
          const k = s.key(i);
          if (k && k.indexOf(prefix) === 0 && /^ceping\.(pending|token|draft|receipt|key)\./.test(k)) keys.add(k);
        }
      } catch {
        // A storage that refuses to be listed: the memory copy still serves this visit.
      }
    }
    return Array.from(keys);
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
      // Nothing more can be done.
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
