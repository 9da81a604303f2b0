import { api as defaultApi, ApiError, type Api } from './api.ts';
import type { AdminPrincipal, AuthStateResponse, SessionResponse } from './types.ts';

/** Who is signed in on this laptop; the CSRF token goes to the Api client, never into the page. */
export class AuthState {
  admin = $state<AdminPrincipal | null>(null);
  needsSetup = $state(false);
  /** False until the first answer from the server. */
  ready = $state(false);
  /** Shown on the login page after the session ended by itself. */
  notice = $state<string | null>(null);
  readonly isTownship = $derived(this.admin?.role === 'township');
  readonly #api: Api;

  constructor(api: Api = defaultApi) {
    this.#api = api;
    api.onUnauthenticated = () => {
      if (this.admin) this.notice = '登录已过期或已在别处退出，请重新登录。';
      this.admin = null;
      this.#api.csrf = null;
    };
  }

  async init(): Promise<void> {
    try {
      const me = await this.#api.get<SessionResponse>('/api/auth/me');
      this.#accept(me);
    } catch (e) {
      if (!(e instanceof ApiError) || e.code !== 'UNAUTHENTICATED') throw e;
      const state = await this.#api.get<AuthStateResponse>('/api/auth/state');
      this.needsSetup = state.needsSetup;
    } finally {
      this.ready = true;
    }
  }

  async login(username: string, password: string): Promise<void> {
    this.#accept(await this.#api.post<SessionResponse>('/api/auth/login', { username, password }));
  }

  async setup(input: { code: string; username: string; displayName: string; password: string }): Promise<void> {
    this.#accept(await this.#api.post<SessionResponse>('/api/auth/setup', input));
    this.needsSetup = false;
  }

  async logout(): Promise<void> {
    try {
      await this.#api.post('/api/auth/logout');
    } finally {
      this.admin = null;
      this.#api.csrf = null;
    }
  }

  #accept(s: SessionResponse): void {
    this.#api.csrf = s.csrfToken;
    this.admin = s.admin;
    this.notice = null;
  }
}
