/** A scripted stand-in for the voter API, for state and component tests (the browser test uses the real server). */
import type { ApiResult, VoterApi } from '../../voter-ui/src/lib/api.ts';
import type { CastRequest, CastResponse, ReceiptCheckResponse, StatusResponse } from '../../voter-ui/src/lib/types.ts';
import type { Form } from '../../server/forms/form.schemas.ts';
import { ERRORS, type ErrorCode } from '../../server/errors.ts';

export function refusal(code: ErrorCode, details: Record<string, unknown> = {}, message?: string): ApiResult<never> {
  return { ok: false, kind: 'refused', status: ERRORS[code][0], code, message: message ?? ERRORS[code][1], details };
}
export const UNREACHABLE: ApiResult<never> = { ok: false, kind: 'unreachable', status: null };

export function status(form: Form, state: StatusResponse['state'] = 'ready', rehearsal = false): ApiResult<StatusResponse> {
  return { ok: true, data: { state, rehearsal, unitName: form.unitName, form: state === 'ready' ? form : null } };
}

/**
 * Answers come from the scripts (one entry per call; the last repeats). Cast also behaves like the server
 * when scripted with 'server': the first package is recorded, a retry with the same nonce gets the same receipt.
 */
export class FakeApi implements VoterApi {
  statusCalls: string[] = [];
  castCalls: CastRequest[] = [];
  recorded: CastRequest | null = null;
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
    public statusScript: ApiResult<StatusResponse>[],
    public castScript: (ApiResult<CastResponse> | 'server' | 'lost')[] = ['server'],
  ) {}

  async status(body: { credential: string }): Promise<ApiResult<StatusResponse>> {
    this.statusCalls.push(body.credential);
    const r = this.statusScript.length > 1 ? this.statusScript.shift()! : this.statusScript[0]!;
    if (r.ok && this.recorded) return { ok: true, data: { ...r.data, state: 'used', form: null } };
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
    const step = this.castScript.length > 1 ? this.castScript.shift()! : this.castScript[0]!;
    if (step !== 'server' && step !== 'lost') return step;
    let result: ApiResult<CastResponse>;
    if (!this.recorded) {
      this.recorded = structuredClone(body);
      result = { ok: true, data: { receipt: `R${body.nonce.slice(0, 4).toUpperCase()}-00000`, alreadyRecorded: false, rehearsal: false } };
      this.receipts.add(result.data.receipt);
    } else if (this.recorded.nonce === body.nonce && JSON.stringify(this.recorded.package) === JSON.stringify(body.package)) {
      result = { ok: true, data: { receipt: `R${body.nonce.slice(0, 4).toUpperCase()}-00000`, alreadyRecorded: true, rehearsal: false } };
    } else {
      result = refusal('TOKEN_USED');
    }
    // 'lost': the server recorded it, but the reply never reached the phone.
    return step === 'lost' ? UNREACHABLE : result;
  }
}

/** localStorage / sessionStorage stand-in that can be inspected. */
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
}
