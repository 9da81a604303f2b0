import { api as defaultApi, describeError, type Api } from './api.ts';
import type { NameIndex } from './name-search.ts';
import type { Handout, IssuedCredential, RosterEntry, SignInResponse } from './types.ts';

/** How long the desk shows one person's QR before hiding it (it can never be fetched again). */
export const QR_SHOWN_MS = 60_000;

export type DeskFilter = 'waiting' | 'signed' | 'all';

type NameSearch = typeof import('./name-search.ts');
let nameSearch: Promise<NameSearch> | null = null;

/**
 * The pinyin search with its dictionary is most of the admin bundle's weight and only the desk needs
 * it: it is a chunk of its own, fetched when a desk opens (long before the first keystroke).
 */
export function loadNameSearch(): Promise<NameSearch> {
  nameSearch ??= import('./name-search.ts').catch((e: unknown) => {
    nameSearch = null;
    throw e;
  });
  return nameSearch;
}

export interface ShownCredential {
  credential: IssuedCredential;
  name: string;
  /** Epoch ms when the QR hides itself. */
  until: number;
}

export interface DeskDeps {
  api: Api;
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (id: unknown) => void;
}

/** The sign-in desk: the roster, the search, one tap to sign in, and the one QR on show. */
export class Desk {
  entries = $state<RosterEntry[]>([]);
  query = $state('');
  filter = $state<DeskFilter>('waiting');
  handout = $state<Handout>('qr');
  shown = $state<ShownCredential | null>(null);
  /** The entry being signed in right now. */
  busy = $state<number | null>(null);
  error = $state<{ message: string; hint: string } | null>(null);
  /** The last person signed in without a QR (slip or paper), for the confirmation line. */
  lastDone = $state<{ name: string; handout: Handout } | null>(null);
  loading = $state(false);

  /** The pinyin search, once its chunk is here; until then the desk finds people by the characters of their name. */
  #search = $state.raw<NameSearch | null>(null);
  readonly #index = $derived<Pick<NameIndex<RosterEntry>, 'search'>>(
    this.#search ? new this.#search.NameIndex(this.entries, (e) => e.name) : plainIndex(this.entries),
  );
  readonly results = $derived(
    this.#index
      .search(this.query)
      .filter((e) => (this.filter === 'all' ? true : this.filter === 'signed' ? e.signedIn : !e.signedIn)),
  );
  readonly signedCount = $derived(this.entries.filter((e) => e.signedIn).length);
  readonly waitingCount = $derived(this.entries.length - this.signedCount);

  readonly meetingId: number;
  readonly #d: DeskDeps;
  #hideTimer: unknown = null;

  constructor(meetingId: number, deps: Partial<DeskDeps> = {}) {
    this.meetingId = meetingId;
    this.#d = {
      api: defaultApi,
      now: () => Date.now(),
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
      ...deps,
    };
  }

  /** Start fetching the pinyin search (the desk page calls this as it opens). */
  preloadSearch(): Promise<void> {
    if (this.#search) return Promise.resolve();
    return loadNameSearch().then(
      (m) => {
        this.#search = m;
      },
      // Offline or a stale build: the desk still works by name characters; the next load() tries again.
      () => undefined,
    );
  }

  async load(): Promise<void> {
    this.loading = true;
    const search = this.preloadSearch();
    try {
      const r = await this.#d.api.get<{ entries: RosterEntry[] }>(`/api/meetings/${this.meetingId}/roster`);
      this.entries = r.entries;
      await search;
      this.error = null;
    } catch (e) {
      this.error = describeError(e);
    } finally {
      this.loading = false;
    }
  }

  /** Sign one person in with the desk's current handout; with a QR, show it at once. */
  async signIn(entry: RosterEntry, handout: Handout = this.handout): Promise<SignInResponse | null> {
    if (this.busy !== null || entry.signedIn) return null;
    this.hideQr();
    this.busy = entry.id;
    this.error = null;
    try {
      const r = await this.#d.api.post<SignInResponse>(`/api/meetings/${this.meetingId}/roster/${entry.id}/sign-in`, { handout });
      this.#replace(r.entry);
      if (r.credential) this.#show(r.credential, r.entry.name);
      else this.lastDone = { name: r.entry.name, handout };
      return r;
    } catch (e) {
      this.error = describeError(e);
      // Someone else may have signed this person in at another desk: reload to show the truth.
      void this.load();
      return null;
    } finally {
      this.busy = null;
    }
  }

  /** Enter in the search box: sign in the one person still waiting that the search finds. */
  async signInOnlyMatch(): Promise<SignInResponse | null> {
    const waiting = this.#index.search(this.query).filter((e) => !e.signedIn);
    if (waiting.length !== 1) return null;
    const r = await this.signIn(waiting[0]!);
    if (r) this.query = '';
    return r;
  }

  /** Someone not on the roster: add them (marked as a walk-in) and sign them in. */
  async addWalkIn(input: { name: string; category: string; note: string }): Promise<SignInResponse | null> {
    this.error = null;
    try {
      const entry = await this.#d.api.post<RosterEntry>(`/api/meetings/${this.meetingId}/roster`, { ...input, walkIn: true });
      this.entries = [...this.entries, entry];
      return await this.signIn(entry);
    } catch (e) {
      this.error = describeError(e);
      return null;
    }
  }

  hideQr(): void {
    this.#d.clearTimeout(this.#hideTimer);
    this.#hideTimer = null;
    this.shown = null;
  }

  #show(credential: IssuedCredential, name: string): void {
    this.lastDone = null;
    this.shown = { credential, name, until: this.#d.now() + QR_SHOWN_MS };
    this.#hideTimer = this.#d.setTimeout(() => this.hideQr(), QR_SHOWN_MS);
  }

  #replace(entry: RosterEntry): void {
    this.entries = this.entries.map((e) => (e.id === entry.id ? entry : e));
  }
}

/** Search by the characters of a name only, while the pinyin search loads. */
function plainIndex(entries: RosterEntry[]): Pick<NameIndex<RosterEntry>, 'search'> {
  return {
    search: (query) => {
      const q = query.trim().toLowerCase().replace(/\s+/g, '');
      return q === '' ? entries : entries.filter((e) => e.name.toLowerCase().includes(q));
    },
  };
}
