/**
 * A scripted stand-in for the voter API, for state and component tests (the browser tests use the real
 * server). Its 'server' steps do what the server does with real cryptography: a meeting key evaluates
 * the phone's blinded element with a proof, a lost redemption reply is answered again for the same
 * element, and casting checks the token against the key.
 */
import type { ApiResult, VoterApi } from '../../voter-ui/src/lib/api.ts';
import type {
  CastRequest, CastResponse, MeetingStatusRequest, MeetingStatusResponse, ReceiptCheckResponse, RedeemRequest, RedeemResponse,
} from '../../voter-ui/src/lib/types.ts';
import type { Form } from '../../server/forms/form.schemas.ts';
import { ERRORS, type ErrorCode } from '../../server/errors.ts';
import { blindInput, evaluateBlinded, finalizeToken, newMeetingKey, tokenOutput, type MeetingKey } from '../../server/credentials/voprf.ts';
import { fromB64u, keyFingerprint, toB64u } from '../../server/credentials/encoding.ts';
import { createHash, randomBytes } from 'node:crypto';
import { VoterSession, type SessionDeps } from '../../voter-ui/src/lib/session.svelte.ts';
import { DraftStore } from '../../voter-ui/src/lib/draft-store.ts';
import * as tokenCrypto from '../../voter-ui/src/lib/token-crypto.ts';

export function refusal(code: ErrorCode, details: Record<string, unknown> = {}, message?: string): ApiResult<never> {
  return { ok: false, kind: 'refused', status: ERRORS[code][0], code, message: message ?? ERRORS[code][1], details };
}
export const UNREACHABLE: ApiResult<never> = { ok: false, kind: 'unreachable', status: null };

/** The meeting as the phone's poll sees it. */
export function meeting(form: Form, state: MeetingStatusResponse['state'] = 'voting'): ApiResult<MeetingStatusResponse> {
  return { ok: true, data: { state, unitName: form.unitName, keyFingerprint: null, form: state === 'closed' ? null : form } };
}

type Step<T> = ApiResult<T> | 'server' | 'lost';

function next<T>(script: T[]): T {
  return script.length > 1 ? script.shift()! : script[0]!;
}

/** Answers come from the scripts (one entry per call; the last repeats). */
export class FakeApi implements VoterApi {
  readonly key: MeetingKey = newMeetingKey();
  readonly rehearsalKey: MeetingKey = newMeetingKey();
  meetingId = 7;
  rehearsal = false;
  redeemCalls: RedeemRequest[] = [];
  meetingCalls: MeetingStatusRequest[] = [];
  castCalls: CastRequest[] = [];
  /** The first package recorded per token input. */
  recorded = new Map<string, CastRequest>();
  /** Blinded element each ticket was redeemed with (as the server keeps a hash of it). */
  redeemed = new Map<string, string | null>();
  receiptCalls: string[] = [];
  /**
   * The receipt check, like the server's: counted in 红旗村 once `sealed`, 未找到 for any other receipt.
   * A scripted answer (one per call) comes first; `receiptGate` holds every answer until it resolves.
   */
  receipts = new Set<string>();
  sealed = false;
  receiptScript: ApiResult<ReceiptCheckResponse>[] = [];
  receiptGate: Promise<void> | null = null;

  constructor(
    public meetingScript: ApiResult<MeetingStatusResponse>[],
    public castScript: Step<CastResponse>[] = ['server'],
    public redeemScript: Step<RedeemResponse>[] = ['server'],
  ) {}

  get fingerprint(): string {
    return keyFingerprint(createHash('sha256').update(this.key.publicKey).digest());
  }

  async redeem(body: RedeemRequest): Promise<ApiResult<RedeemResponse>> {
    this.redeemCalls.push(structuredClone(body));
    const step = next(this.redeemScript);
    if (step !== 'server' && step !== 'lost') return step;
    const key = this.rehearsal ? this.rehearsalKey : this.key;
    const had = this.redeemed.get(body.ticket);
    if (!this.rehearsal && had !== undefined && (had === null || had !== body.blinded)) return refusal('TICKET_USED');
    if (!this.rehearsal) this.redeemed.set(body.ticket, body.blinded);
    const base = {
      meetingId: this.meetingId, access: 'A'.repeat(43), unitName: '红旗村', rehearsal: this.rehearsal,
      publicKey: toB64u(key.publicKey), keyFingerprint: keyFingerprint(createHash('sha256').update(key.publicKey).digest()),
    };
    let result: RedeemResponse;
    if (body.blinded === null) {
      const input = new Uint8Array(randomBytes(32));
      const b = blindInput(input);
      const ev = evaluateBlinded(key, b.blinded);
      const output = finalizeToken({ input, ...b, ...ev, publicKey: key.publicKey });
      result = { ...base, evaluated: null, proof: null, token: { input: toB64u(input), output: toB64u(output) } };
    } else {
      const ev = evaluateBlinded(key, fromB64u(body.blinded, 32)!);
      result = { ...base, evaluated: toB64u(ev.evaluated), proof: toB64u(ev.proof), token: null };
    }
    return step === 'lost' ? UNREACHABLE : { ok: true, data: result };
  }

  async meeting(body: MeetingStatusRequest): Promise<ApiResult<MeetingStatusResponse>> {
    this.meetingCalls.push(structuredClone(body));
    const r = next(this.meetingScript);
    if (r.ok && body.withForm === false) return { ok: true, data: { ...r.data, form: null } };
    return r;
  }

  async checkReceipt(body: { receipt: string }): Promise<ApiResult<ReceiptCheckResponse>> {
    this.receiptCalls.push(body.receipt);
    if (this.receiptGate) await this.receiptGate;
    const scripted = this.receiptScript.shift();
    if (scripted) return scripted;
    if (!this.receipts.has(body.receipt)) return { ok: true, data: { found: false, status: 'not_found', message: '未找到' } };
    if (!this.sealed) return { ok: true, data: { found: false, status: 'not_sealed', message: '会议结果封存后才能查询' } };
    return { ok: true, data: { found: true, status: 'included', message: '已计入', unitName: '红旗村' } };
  }

  async cast(body: CastRequest): Promise<ApiResult<CastResponse>> {
    this.castCalls.push(structuredClone(body));
    const step = next(this.castScript);
    if (step !== 'server' && step !== 'lost') return step;
    const input = fromB64u(body.token.input, 32);
    const key = this.rehearsal ? this.rehearsalKey : this.key;
    if (!input || toB64u(tokenOutput(key.secretKey, input)) !== body.token.output) return refusal('TOKEN_INVALID');
    const receipt = `R${createHash('sha256').update(body.token.input).digest('hex').slice(0, 4).toUpperCase()}-00000`;
    let result: ApiResult<CastResponse>;
    const before = this.recorded.get(body.token.input);
    if (this.rehearsal) result = { ok: true, data: { receipt, alreadyRecorded: false, rehearsal: true } };
    else if (!before) {
      this.recorded.set(body.token.input, structuredClone(body));
      result = { ok: true, data: { receipt, alreadyRecorded: false, rehearsal: false } };
      this.receipts.add(receipt);
    } else if (JSON.stringify(before.package) === JSON.stringify(body.package)) {
      result = { ok: true, data: { receipt, alreadyRecorded: true, rehearsal: false } };
    } else {
      result = refusal('TOKEN_USED');
    }
    // 'lost': the server recorded it, but the reply never reached the phone.
    return step === 'lost' ? UNREACHABLE : result;
  }
}

/** localStorage / sessionStorage stand-in that can be inspected (and listed, as the sweep does). */
export class MemoryStorage {
  items = new Map<string, string>();
  getItem(k: string) {
    return this.items.has(k) ? this.items.get(k)! : null;
  }
  setItem(k: string, v: string) {
    this.items.set(k, v);
  }
  removeItem(k: string) {
    this.items.delete(k);
  }
  key(i: number) {
    return [...this.items.keys()][i] ?? null;
  }
  get length() {
    return this.items.size;
  }
}

/** A session as main.ts makes one, with the real curve code (or none: a phone without BigInt). */
export function newSession(api: FakeApi, o: { local?: MemoryStorage; tab?: MemoryStorage; bigint?: boolean } & Partial<SessionDeps> = {}) {
  const local = o.local ?? new MemoryStorage();
  const tab = o.tab ?? new MemoryStorage();
  const session = new VoterSession({
    api,
    drafts: new DraftStore(local),
    tab,
    crypto: async () => (o.bigint === false ? null : tokenCrypto),
    pollMs: o.pollMs ?? 3000,
    watchMs: o.watchMs ?? 5000,
  });
  return { session, local, tab };
}
