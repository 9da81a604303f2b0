import { api as defaultApi, describeError, type Api } from './api.ts';
import type { PublicKeyResponse } from './types.ts';

/**
 * The server's archive signing key. Its fingerprint is printed on every report and shown on every
 * admin page, so anyone holding a printed report can check a sealed file against it offline.
 */
export class SignerKey {
  key = $state<PublicKeyResponse | null>(null);
  error = $state<{ message: string; hint: string } | null>(null);
  readonly fingerprint = $derived(this.key?.fingerprint ?? null);
  readonly #api: Api;
  #loading: Promise<void> | null = null;

  constructor(api: Api = defaultApi) {
    this.#api = api;
  }

  /** Fetch once per page load; a failure may be retried by calling again. */
  load(): Promise<void> {
    this.#loading ??= this.#api.get<PublicKeyResponse>('/api/archive/public-key').then(
      (k) => {
        this.key = k;
        this.error = null;
      },
      (e: unknown) => {
        this.error = describeError(e);
        this.#loading = null;
      },
    );
    return this.#loading;
  }
}

/** The page's one copy (the key does not change while the server runs). */
export const signerKey = new SignerKey();

/** The command line that checks a file against this fingerprint. */
export function verifyCommand(fingerprint: string, file = '档案文件.json'): string {
  return `npx ceping verify ${file} --fingerprint "${fingerprint}"`;
}
