/** A scripted stand-in for the server behind the admin pages' Api (the browser test uses the real server). */
import { Api } from '../../admin-ui/src/lib/api.ts';
import { ERRORS, type ErrorCode } from '../../server/errors.ts';

export interface Reply {
  status: number;
  body?: unknown;
}
type Handler = (body: unknown, url: string) => Reply | Promise<Reply>;

export function refuse(code: ErrorCode, message?: string): Reply {
  return { status: ERRORS[code][0], body: { error: { code, message: message ?? ERRORS[code][1] } } };
}

export class FakeServer {
  readonly calls: { method: string; url: string; body: unknown; csrf: string | null }[] = [];
  readonly #routes = new Map<string, Handler>();
  offline = false;

  on(method: string, path: string, handler: Handler | Reply): this {
    this.#routes.set(`${method} ${path}`, typeof handler === 'function' ? handler : () => handler);
    return this;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const url = String(input);
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    const headers = (init?.headers ?? {}) as Record<string, string>;
    this.calls.push({ method, url, body, csrf: headers['x-csrf-token'] ?? null });
    if (this.offline) throw new TypeError('Failed to fetch');
    const handler = this.#routes.get(`${method} ${url}`);
    const reply = handler ? await handler(body, url) : refuse('NOT_FOUND');
    return new Response(reply.body === undefined ? null : JSON.stringify(reply.body), {
      status: reply.status,
      headers: { 'content-type': 'application/json' },
    });
  };

  api(csrf = 'csrf-1'): Api {
    const a = new Api(this.fetch);
    a.csrf = csrf;
    return a;
  }
}

/** Let pending promises and Svelte's effects run. */
export const settle = () => new Promise((r) => setTimeout(r, 0));
