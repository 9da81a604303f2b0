/**
 * The voter's requests: redeem a ticket, ask about the meeting, cast, and the receipt check after the
 * meeting. Secrets travel only in a POST body to this page's own server, never in a URL; the three
 * ballot requests share no value (see server/ballots/voter.routes.ts); nothing here logs.
 */
import type {
  CastRequest, CastResponse, ErrorBody, MeetingStatusRequest, MeetingStatusResponse, ReceiptCheckRequest, ReceiptCheckResponse, RedeemRequest, RedeemResponse,
} from './types.ts';

export type ApiResult<T> =
  | { ok: true; data: T }
  /** The server answered and said no: show its words (they are written for voters). */
  | { ok: false; kind: 'refused'; status: number; code: string; message: string; details: Record<string, unknown> }
  /** No usable answer: no network, a timeout, a 5xx, or too many requests. Safe to try again. */
  | { ok: false; kind: 'unreachable'; status: number | null };

export interface VoterApi {
  redeem(body: RedeemRequest): Promise<ApiResult<RedeemResponse>>;
  meeting(body: MeetingStatusRequest): Promise<ApiResult<MeetingStatusResponse>>;
  cast(body: CastRequest): Promise<ApiResult<CastResponse>>;
  checkReceipt(body: ReceiptCheckRequest): Promise<ApiResult<ReceiptCheckResponse>>;
}

const GENERIC_REFUSAL = '提交未成功，请向工作人员求助';

async function post<T>(path: string, body: unknown, timeoutMs: number): Promise<ApiResult<T>> {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      if (controller) controller.abort();
      resolve('timeout');
    }, timeoutMs);
  });
  try {
    const request = fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      credentials: 'omit',
      cache: 'no-store',
      signal: controller ? controller.signal : undefined,
    });
    const res = await Promise.race([request, timeout]);
    if (res === 'timeout') return { ok: false, kind: 'unreachable', status: null };
    if (res.status >= 500 || res.status === 429) return { ok: false, kind: 'unreachable', status: res.status };
    let parsed: unknown = null;
    try {
      parsed = await res.json();
    } catch {
      parsed = null;
    }
    if (res.ok && parsed !== null) return { ok: true, data: parsed as T };
    const err = parsed !== null && typeof parsed === 'object' ? (parsed as Partial<ErrorBody>).error : undefined;
    if (!res.ok && err && typeof err.code === 'string') {
      return {
        ok: false,
        kind: 'refused',
        status: res.status,
        code: err.code,
        message: typeof err.message === 'string' && err.message !== '' ? err.message : GENERIC_REFUSAL,
        details: err.details ?? {},
      };
    }
    // A reply the page cannot read (a proxy's page, a cut-off body): treat it as no reply.
    return res.ok ? { ok: false, kind: 'unreachable', status: res.status } : { ok: false, kind: 'refused', status: res.status, code: 'UNKNOWN', message: GENERIC_REFUSAL, details: {} };
  } catch {
    return { ok: false, kind: 'unreachable', status: null };
  } finally {
    clearTimeout(timer);
  }
}

/** The real API on this page's own origin. */
export const httpApi: VoterApi = {
  redeem: (body) => post<RedeemResponse>('/api/voter/redeem', body, 15000),
  meeting: (body) => post<MeetingStatusResponse>('/api/voter/meeting', body, 10000),
  cast: (body) => post<CastResponse>('/api/voter/cast', body, 20000),
  checkReceipt: (body) => post<ReceiptCheckResponse>('/api/receipts/check', body, 10000),
};
