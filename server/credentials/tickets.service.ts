import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServiceDeps } from '../deps.ts';
import type { DbOrTrx } from '../db/database.ts';
import type { TicketKind } from '../db/schema.ts';
import { DomainError } from '../errors.ts';
import { findMeeting } from '../meetings/meetings.repository.ts';
import { voterUrl } from '../net.ts';
import { ShortCodeBrake } from './guess-limit.ts';
import * as repo from './tickets.repository.ts';
import {
  formatShortCode, hashSecret, newRowId, newShortCode, newTicketSecret, normalizeShortCode, TICKET_PATTERN, unwrapMeetingKey, wrapMeetingKey,
} from './secrets.ts';
import { blindInput, finalizeToken, fromB64u, INPUT_BYTES, keyFingerprint, newMeetingKey, POINT_BYTES, toB64u, type MeetingKey } from './voprf.ts';
import { PROOF_RANDOM_BYTES, type Lane, type VoprfPool } from './voprf-pool.ts';

/** What the desk shows (or a slip prints): the secret once, never stored but as a keyed hash. */
export interface IssuedTicket {
  id: string;
  /** The QR's secret (22 characters), carried in the URL fragment. */
  secret: string;
  /** 8 symbols for a phone that cannot scan, shown as XXXX-XXXX. */
  shortCode: string;
  url: string;
  /** The number printed on a slip. */
  serial: number | null;
}

export interface RedeemResult {
  meetingId: number;
  /** The same for every voter of the meeting: lets the phone ask about the meeting without naming itself. */
  access: string;
  unitName: string;
  rehearsal: boolean;
  publicKey: string;
  keyFingerprint: string;
  evaluated: string | null;
  proof: string | null;
  /** Only for a phone that cannot blind (no BigInt): the server made its token (see README). */
  token: { input: string; output: string } | null;
}

type KeyPurpose = 'vote' | 'rehearsal';

/**
 * Tickets and the meeting keys that turn them into tokens. A ticket is handed to a known person; it
 * buys exactly one blind evaluation with the meeting's key. Nothing recorded about a redemption (the
 * ticket's new state and a keyed hash of the blinded element) can be matched with the token the phone
 * unblinds from it, which is all that casting ever sees.
 */
export class TicketService {
  readonly #d: ServiceDeps;
  readonly #baseUrl: string;
  readonly #brake: ShortCodeBrake;
  /** Secrets of desk tickets not yet redeemed, so the desk can show a QR again, by ticket id, with their meeting; this process only. */
  readonly #shown = new Map<string, { meetingId: number; ticket: IssuedTicket }>();
  readonly #keys = new Map<string, MeetingKey | null>();
  readonly #pool: VoprfPool;

  constructor(deps: ServiceDeps, baseUrl: string, pool: VoprfPool) {
    this.#d = deps;
    this.#baseUrl = baseUrl;
    this.#pool = pool;
    this.#brake = new ShortCodeBrake({}, () => deps.now().getTime());
  }

  // ---------------------------------------------------------------- keys

  /** Made when sign-in starts (in its transaction): the voting key and a separate rehearsal key. */
  async createMeetingKeys(trx: DbOrTrx, meetingId: number): Promise<string> {
    const vote = newMeetingKey();
    const stored = (purpose: KeyPurpose, key: MeetingKey) => ({ ...key, secretKey: wrapMeetingKey(this.#d.pepper, meetingId, purpose, key.secretKey) });
    await repo.insertMeetingKey(trx, meetingId, 'vote', stored('vote', vote));
    await repo.insertMeetingKey(trx, meetingId, 'rehearsal', stored('rehearsal', newMeetingKey()));
    return this.fingerprint(vote.publicKey);
  }

  /** Destroy a meeting's keys (the rehearsal key when voting opens, both at close). */
  async destroyMeetingKeys(trx: DbOrTrx, meetingId: number, purpose?: KeyPurpose): Promise<void> {
    await repo.deleteMeetingKeys(trx, meetingId, purpose);
    this.forgetMeetingKeys(meetingId, purpose);
  }

  /** A key another server process destroyed (PostgreSQL): not kept in this process's memory either. */
  forgetMeetingKeys(meetingId: number, purpose?: KeyPurpose): void {
    for (const p of purpose ? [purpose] : (['vote', 'rehearsal'] as const)) this.#keys.delete(`${meetingId}:${p}`);
  }

  async meetingKey(meetingId: number, purpose: KeyPurpose): Promise<MeetingKey | null> {
    const k = `${meetingId}:${purpose}`;
    if (!this.#keys.has(k)) {
      const row = await repo.findMeetingKey(this.#d.db, meetingId, purpose);
      // Only a key that exists is remembered: a missing one may be created by a transaction still open.
      if (!row) return null;
      this.#keys.set(k, { secretKey: unwrapMeetingKey(this.#d.pepper, meetingId, purpose, new Uint8Array(row.secret_key)), publicKey: new Uint8Array(row.public_key) });
    }
    return this.#keys.get(k) ?? null;
  }

  fingerprint(publicKey: Uint8Array): string {
    return keyFingerprint(createHash('sha256').update(publicKey).digest());
  }

  /** The meeting's shared access word: known to every phone that redeemed a ticket of it, naming none. */
  meetingAccess(meetingId: number): string {
    return hashSecret(this.#d.pepper, 'access', `meeting:${meetingId}`);
  }

  checkAccess(meetingId: number, access: string): boolean {
    const a = Buffer.from(this.meetingAccess(meetingId));
    const b = Buffer.from(access);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  // ---------------------------------------------------------------- making tickets

  /** Make one ticket row. The secret and the short code leave this function once and are stored only as keyed hashes. */
  async makeTicket(trx: DbOrTrx, meetingId: number, kind: TicketKind, o: { entryId: number | null; serial: number | null; state: 'dormant' | 'issued' }): Promise<IssuedTicket> {
    for (let attempt = 0; ; attempt++) {
      const secret = newTicketSecret(this.#d.random);
      const code = newShortCode(this.#d.random);
      const id = newRowId(this.#d.random);
      const r = await repo.insertTicket(trx, {
        id,
        meetingId,
        kind,
        serial: o.serial,
        entryId: o.entryId,
        secretHash: hashSecret(this.#d.pepper, 'ticket', secret),
        codeHash: hashSecret(this.#d.pepper, 'code', code),
        state: o.state,
      });
      if (r.numInsertedOrUpdatedRows === 1n) return { id, secret, shortCode: formatShortCode(code), url: voterUrl(this.#baseUrl, secret), serial: o.serial };
      // A short code can collide (34 bits); draw again rather than fail the sign-in desk.
      if (attempt >= 4) throw new Error('five short codes in a row were taken');
    }
  }

  /** Keep a desk ticket's secret in memory until it is redeemed or voting closes, so the desk can show it again. */
  remember(meetingId: number, t: IssuedTicket): void {
    this.#shown.set(t.id, { meetingId, ticket: t });
  }

  shownAgain(ticketId: string): IssuedTicket | null {
    return this.#shown.get(ticketId)?.ticket ?? null;
  }

  forget(ticketId: string): void {
    this.#shown.delete(ticketId);
  }

  /** Voting closed: the secrets of the meeting's tickets never redeemed leave memory (they can vote no more). */
  forgetMeeting(meetingId: number): void {
    for (const [id, s] of this.#shown) if (s.meetingId === meetingId) this.#shown.delete(id);
  }

  // ---------------------------------------------------------------- redeeming (the phone's first request)

  /**
   * Burn a ticket for one blind evaluation. A lost reply is answered again for the same blinded
   * element; any other element on a redeemed ticket is refused. With `blinded: null` (a phone without
   * BigInt) the server makes the token itself and forgets it: such a phone gives up protection from
   * the running server process, not from its files (README).
   */
  async redeem(presented: string, blindedText: string | null, address = ''): Promise<RedeemResult> {
    const typed = !TICKET_PATTERN.test(presented.trim());
    // Typed codes from an address that keeps missing wait their turn; a right code is slowed, never refused.
    if (typed && !(await this.#brake.admit(address))) throw new DomainError('RATE_LIMITED', '测评码输错太多次，请稍等一分钟再试，或直接扫描二维码');
    const ticket = await this.#findTicket(presented);
    const meeting = ticket && (await findMeeting(this.#d.db, ticket.meeting_id));
    if (!ticket || !meeting) {
      if (typed) this.#brake.miss(address);
      throw new DomainError('TICKET_INVALID');
    }
    if (meeting.state === 'closed' || meeting.state === 'sealed') throw new DomainError('VOTING_CLOSED');
    if (meeting.state === 'draft') throw new DomainError('TICKET_INVALID');

    const rehearsal = ticket.kind === 'rehearsal';
    if (rehearsal && meeting.state !== 'signin') throw new DomainError('REHEARSAL_EXPIRED');
    if (ticket.state === 'dormant') throw new DomainError('TICKET_NOT_HANDED_OUT');
    if (ticket.state === 'void') throw new DomainError('TICKET_VOID');

    const key = await this.meetingKey(meeting.id, rehearsal ? 'rehearsal' : 'vote');
    if (!key) throw new DomainError(rehearsal ? 'REHEARSAL_EXPIRED' : 'VOTING_CLOSED');

    let blinded: Uint8Array;
    let assisted: { input: Uint8Array; blind: Uint8Array } | null = null;
    if (blindedText === null) {
      const input = new Uint8Array(this.#d.random(INPUT_BYTES));
      const b = blindInput(input, (n) => new Uint8Array(this.#d.random(n)));
      blinded = b.blinded;
      assisted = { input, blind: b.blind };
    } else {
      const parsed = fromB64u(blindedText, POINT_BYTES);
      if (!parsed) throw new DomainError('VALIDATION', '领取测评凭证的请求格式不正确，请刷新页面重试');
      blinded = parsed;
    }
    // Evaluate before burning: a malformed element must not use the ticket up.
    let evaluation: { evaluated: Uint8Array; proof: Uint8Array };
    try {
      evaluation = await this.#pool.blindEvaluate(key, blinded, new Uint8Array(this.#d.random(PROOF_RANDOM_BYTES)));
    } catch {
      throw new DomainError('VALIDATION', '领取测评凭证的请求格式不正确，请刷新页面重试');
    }

    if (!rehearsal) {
      const blindedHash = hashSecret(this.#d.pepper, 'blinded', toB64u(blinded));
      if (ticket.state === 'redeemed') {
        // A lost reply comes back with the same blinded element; an assisted phone cannot prove that.
        if (assisted || ticket.blinded_hash === null || ticket.blinded_hash !== blindedHash) throw new DomainError('TICKET_USED');
      } else {
        const r = await this.#d.db.transaction().execute((trx) => repo.markRedeemed(trx, ticket.id, blindedHash));
        if (r.numUpdatedRows !== 1n) {
          // Redeemed or voided by another request since it was read.
          const again = await repo.findTicket(this.#d.db, meeting.id, ticket.id);
          if (!again || again.state !== 'redeemed' || again.blinded_hash !== blindedHash || assisted) {
            throw new DomainError(again?.state === 'void' ? 'TICKET_VOID' : 'TICKET_USED');
          }
        }
        this.forget(ticket.id);
      }
    }

    const token = assisted
      ? {
          input: toB64u(assisted.input),
          output: toB64u(
            finalizeToken({ input: assisted.input, blind: assisted.blind, blinded, evaluated: evaluation.evaluated, proof: evaluation.proof, publicKey: key.publicKey }),
          ),
        }
      : null;
    return {
      meetingId: meeting.id,
      access: this.meetingAccess(meeting.id),
      unitName: meeting.unit_name,
      rehearsal,
      publicKey: toB64u(key.publicKey),
      keyFingerprint: this.fingerprint(key.publicKey),
      evaluated: assisted ? null : toB64u(evaluation.evaluated),
      proof: assisted ? null : toB64u(evaluation.proof),
      token,
    };
  }

  /** Whether a token's output is F(key, input) for the meeting's key of this purpose: the whole check that casting makes. */
  async tokenIsValid(meetingId: number, purpose: KeyPurpose, input: Uint8Array, output: Uint8Array, lane: Lane = 'normal'): Promise<boolean> {
    const key = await this.meetingKey(meetingId, purpose);
    if (!key) return false;
    const expected = await this.#pool.evaluate(key.secretKey, input, lane);
    return expected.length === output.length && timingSafeEqual(expected, output);
  }

  async #findTicket(presented: string) {
    const s = presented.trim();
    if (TICKET_PATTERN.test(s)) {
      const bySecret = await repo.findTicketByHash(this.#d.db, { secretHash: hashSecret(this.#d.pepper, 'ticket', s) });
      if (bySecret) return bySecret;
    }
    const code = normalizeShortCode(s);
    if (!code) return undefined;
    return repo.findTicketByHash(this.#d.db, { codeHash: hashSecret(this.#d.pepper, 'code', code) });
  }
}
