/**
 * The admin pages' one way to talk to the server: same origin, the session cookie, and the CSRF
 * token on every request that changes something. Every failure becomes an ApiError whose message
 * says what happened and whose hint says what to do next, in words for the person at the laptop.
 */
import type { ErrorBody } from './types.ts';

export const NETWORK_MESSAGE = '无法连接服务器';
export const NETWORK_HINT = '请检查这台电脑是否仍连着会场的网络（网线或 Wi-Fi），以及服务器是否在运行，然后再试一次。';

/** The next step for refusals whose server message says only what went wrong. */
const HINTS: Record<string, string> = {
  UNAUTHENTICATED: '请重新登录后再操作。',
  VALIDATION: '请检查填写的内容后重试。',
  NOT_FOUND: '请刷新页面；如果记录已被删除，请返回上一页。',
  BAD_STATE: '请刷新页面，查看会议的当前状态。',
  FORBIDDEN: '如需操作此会议，请联系镇党委办公室为您的账号分配会议。',
  QUORUM_NOT_MET: '可以继续签到；确需开始的，请填写理由后再开始。',
  ALREADY_SIGNED_IN: '此人已经签到，无需重复签到。',
  BALLOT_LIMIT: '收回票数不能超过发出票数：请核对纸质票是否都发给了已签到的人。',
  BALLOT_INVALID: '请按提示修改后再提交。',
  PAPER_SAME_PERSON: '请另一名考察组成员在本机输入自己的用户名和密码确认。',
  NO_TEAM: '请先在「单位」页面录入班子成员。',
  NO_SECRETARY: '请先在「单位」页面录入班子成员并指定党组织书记。',
  TEMPLATE_INVALID: '请按提示修改测评表模板后再保存。',
  ROSTER_IMPORT: '请按提示修改文件后重新选择。',
};

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null,
    readonly hint: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export function hintFor(code: string, status: number | null): string {
  if (code in HINTS) return HINTS[code]!;
  if (status === null) return NETWORK_HINT;
  if (status >= 500) return '请稍后再试；如果一直出现，请联系镇党委办公室。';
  return '';
}

/** A thrown value as words for the page (never a stack). */
export function describeError(e: unknown): { message: string; hint: string } {
  if (e instanceof ApiError) return { message: e.message, hint: e.hint };
  // A bug, not a refusal: leave a trace for whoever opens the browser's console.
  console.error(e);
  return { message: '页面出现了意外问题', hint: '请刷新页面后重试；如果仍然出现，请联系镇党委办公室。' };
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export class Api {
  /** From login or /api/auth/me; sent back as x-csrf-token. */
  csrf: string | null = null;
  /** Called when the server says the session is gone (logged out elsewhere, expired, server restarted). */
  onUnauthenticated: (() => void) | null = null;
  readonly #fetch: typeof fetch;

  constructor(fetchImpl: typeof fetch = (...a) => fetch(...a)) {
    this.#fetch = fetchImpl;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }
  post<T>(path: string, body: unknown = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }
  put<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PUT', path, body);
  }
  patch<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('PATCH', path, body);
  }
  delete(path: string): Promise<void> {
    return this.request<void>('DELETE', path);
  }

  /** The raw response of a request that succeeded (for downloads read as a stream). */
  async raw(method: Method, path: string, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET' && this.csrf) headers['x-csrf-token'] = this.csrf;
    let res: Response;
    try {
      res = await this.#fetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        cache: 'no-store',
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch {
      throw new ApiError('NETWORK', NETWORK_MESSAGE, null, NETWORK_HINT);
    }
    if (res.ok) return res;
    throw await this.#errorOf(res);
  }

  async request<T>(method: Method, path: string, body?: unknown): Promise<T> {
    const res = await this.raw(method, path, body);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async #errorOf(res: Response): Promise<ApiError> {
    let body: Partial<ErrorBody> | null = null;
    try {
      body = (await res.json()) as Partial<ErrorBody>;
    } catch {
      body = null;
    }
    const err = body?.error;
    const code = typeof err?.code === 'string' ? err.code : res.status >= 500 ? 'INTERNAL' : 'HTTP';
    const message =
      typeof err?.message === 'string' && err.message !== '' ? err.message : res.status >= 500 ? '服务器暂时出现问题' : `操作没有成功（HTTP ${res.status}）`;
    if (code === 'UNAUTHENTICATED') this.onUnauthenticated?.();
    // The server's own 5xx words already say what to do; a proxy's bare 502 does not.
    const hint = code === 'INTERNAL' && err?.message ? '' : hintFor(code, res.status);
    return new ApiError(code, message, res.status, hint, err?.details ?? {});
  }
}

/** The page's one client. */
export const api = new Api();
