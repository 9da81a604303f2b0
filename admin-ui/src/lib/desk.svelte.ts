import { api as defaultApi, describeError, type Api } from './api.ts';
import { lookAlikes } from './lookalike.ts';
import type { NameIndex } from './name-search.ts';
import type { Handout, IssuedTicket, RosterEntry, SignInResponse, TicketStatus } from './types.ts';

/** How often the desk asks whether the QR on show has been taken by a phone. */
export const POLL_MS = 1000;
/** How long 已领取 stays on the screen before the desk is free for the next person. */
export const TAKEN_SHOWN_MS = 2500;
/** How long the desk offers 撤销 for the last sign-in. */
export const UNDO_MS = 120_000;

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

/** The QR on the desk screen: shown until a phone takes it (已领取), not for a fixed time. */
export interface ShownTicket {
  ticket: IssuedTicket;
  entryId: number;
  name: string;
  taken: boolean;
}

export interface DeskDeps {
  api: Api;
  now: () => number;
  setTimeout: (fn: () => void, ms: number) => unknown;
  clearTimeout: (id: unknown) => void;
}

/** The sign-in desk: the roster, the search, one tap to sign in, and the one QR on show until it is taken. */
export class Desk {
  entries = $state<RosterEntry[]>([]);
  query = $state('');
  filter = $state<DeskFilter>('waiting');
  /** How the next person gets a ballot; back to 手机扫码 after each slip or paper form. */
  handout = $state<Handout>('qr');
  shown = $state<ShownTicket | null>(null);
  /** The entry being signed in right now. */
  busy = $state<number | null>(null);
  error = $state<{ message: string; hint: string } | null>(null);
  /** The last sign-in, for the confirmation line and its 撤销. */
  lastDone = $state<{ entryId: number; name: string; handout: Handout; serial: number | null; at: number } | null>(null);
  /** A sign-in waiting for the desk to type the slip's serial. */
  askSerial = $state<RosterEntry | null>(null);
  /** A sign-in waiting for the desk to confirm it is not the look-alike name. */
  askSure = $state<{ entry: RosterEntry; handout: Handout; slipSerial: number | null; alike: string[] } | null>(null);
  loading = $state(false);

  /** The pinyin search, once its chunk is here; until then the desk finds people by the characters of their name. */
  #search = $state.raw<NameSearch | null>(null);
  readonly #index = $derived<Pick<NameIndex<RosterEntry>, 'search'>>(
    this.#search ? new this.#search.NameIndex(this.entries, (e) => e.name) : plainIndex(this.entries),
  );
  /**
   * The list under the search box. Searching while 未签到 is shown also lists the people it finds who are
   * already signed in (after those still waiting, marked 已签到): a name that seems missing would otherwise
   * send the desk to 名单外人员 and sign the same person in twice.
   */
  readonly results = $derived.by(() => {
    const found = this.#index.search(this.query);
    if (this.filter === 'all') return found;
    if (this.filter === 'signed') return found.filter((e) => e.signedIn);
    const waiting = found.filter((e) => !e.signedIn);
    return this.query.trim() === '' ? waiting : [...waiting, ...found.filter((e) => e.signedIn)];
  });
  readonly signedCount = $derived(this.entries.filter((e) => e.signedIn).length);
  readonly waitingCount = $derived(this.entries.length - this.signedCount);

  readonly meetingId: number;
  readonly #d: DeskDeps;
  #pollTimer: unknown = null;

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

  /**
   * Sign one person in with the desk's current handout. A slip first asks for its serial; a name one
   * character away from another waiting name first asks the desk to confirm. With a QR, show it at once.
   */
  async signIn(entry: RosterEntry, handout: Handout = this.handout, slipSerial: number | null = null, sure = false): Promise<SignInResponse | null> {
    if (this.busy !== null || entry.signedIn) return null;
    if (handout === 'slip' && slipSerial === null) {
      this.askSerial = entry;
      return null;
    }
    if (!sure) {
      const alike = lookAlikes(entry.name, this.entries.filter((e) => e.id !== entry.id && !e.signedIn).map((e) => e.name));
      if (alike.length > 0) {
        this.askSure = { entry, handout, slipSerial, alike };
        return null;
      }
    }
    this.askSerial = null;
    this.askSure = null;
    this.hideQr();
    this.busy = entry.id;
    this.error = null;
    try {
      const r = await this.#d.api.post<SignInResponse>(`/api/meetings/${this.meetingId}/roster/${entry.id}/sign-in`, { handout, slipSerial });
      this.#replace(r.entry);
      this.lastDone = { entryId: r.entry.id, name: r.entry.name, handout, serial: slipSerial, at: this.#d.now() };
      // The next person is someone else: a search left standing would show this person as 已签到 and nothing else.
      this.query = '';
      if (r.ticket) this.#show(r.ticket, r.entry.id, r.entry.name);
      // A slip or a paper form is the exception: the next person gets a QR unless the desk says otherwise.
      this.handout = 'qr';
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

  /** The desk confirmed the look-alike question. */
  confirmSure(): Promise<SignInResponse | null> {
    const a = this.askSure;
    if (!a) return Promise.resolve(null);
    this.askSure = null;
    return this.signIn(a.entry, a.handout, a.slipSerial, true);
  }

  /** The desk typed the slip's serial. */
  signInWithSlip(serial: number): Promise<SignInResponse | null> {
    const entry = this.askSerial;
    if (!entry) return Promise.resolve(null);
    this.askSerial = null;
    return this.signIn(entry, 'slip', serial);
  }

  cancelQuestions(): void {
    this.askSerial = null;
    this.askSure = null;
  }

  /** Enter in the search box: sign in the one person still waiting that the search finds. */
  async signInOnlyMatch(): Promise<SignInResponse | null> {
    const waiting = this.#index.search(this.query).filter((e) => !e.signedIn);
    if (waiting.length !== 1) return null;
    return this.signIn(waiting[0]!);
  }

  /** Someone not on the roster: add them (marked as a walk-in) and sign them in. */
  async addWalkIn(input: { name: string; category: string; note: string }): Promise<SignInResponse | null> {
    this.error = null;
    try {
      const entry = await this.#d.api.post<RosterEntry>(`/api/meetings/${this.meetingId}/roster`, { ...input, walkIn: true });
      this.entries = [...this.entries, entry];
      return await this.signIn(entry, this.handout, null, true);
    } catch (e) {
      this.error = describeError(e);
      return null;
    }
  }

  /** Whether the last sign-in can still be undone from the desk (the server also checks its ballot is unused). */
  canUndo(now: number): boolean {
    return this.lastDone !== null && now - this.lastDone.at < UNDO_MS;
  }

  /** 撤销 the last sign-in (a wrong person tapped): their ticket is voided, the slip goes back to the pile. */
  async undoLast(): Promise<boolean> {
    const last = this.lastDone;
    if (!last) return false;
    this.error = null;
    try {
      const entry = await this.#d.api.post<RosterEntry>(`/api/meetings/${this.meetingId}/roster/${last.entryId}/undo-sign-in`);
      this.#replace(entry);
      if (this.shown?.entryId === last.entryId) this.hideQr();
      this.lastDone = null;
      return true;
    } catch (e) {
      this.error = describeError(e);
      return false;
    }
  }

  // ---------------------------------------------------------------- a signed-in person's ticket

  ticketOf(entry: RosterEntry): Promise<TicketStatus> {
    return this.#d.api.get<TicketStatus>(`/api/meetings/${this.meetingId}/roster/${entry.id}/ticket`);
  }

  /** 重新显示: the same QR again, while no phone has taken it. */
  showAgain(entry: RosterEntry): Promise<boolean> {
    return this.#ticketAction(entry, 'show');
  }

  /** 作废并换一张: the old QR stops working, a new one is shown. Still one ballot for the person. */
  replace(entry: RosterEntry): Promise<boolean> {
    return this.#ticketAction(entry, 'replace');
  }

  /** 补发: the person's phone took its QR and then failed; one more ballot issued, with the reason in the log. */
  reissue(entry: RosterEntry, reason: string): Promise<boolean> {
    return this.#ticketAction(entry, 'reissue', { reason });
  }

  async #ticketAction(entry: RosterEntry, action: 'show' | 'replace' | 'reissue', body?: object): Promise<boolean> {
    this.error = null;
    try {
      const t = await this.#d.api.post<IssuedTicket>(`/api/meetings/${this.meetingId}/roster/${entry.id}/ticket/${action}`, body);
      this.#show(t, entry.id, entry.name);
      return true;
    } catch (e) {
      this.error = describeError(e);
      return false;
    }
  }

  hideQr(): void {
    this.#d.clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    this.shown = null;
  }

  #show(ticket: IssuedTicket, entryId: number, name: string): void {
    this.hideQr();
    this.shown = { ticket, entryId, name, taken: false };
    this.#schedulePoll();
  }

  /** Ask once a second whether a phone has redeemed the QR on show; then say 已领取 and free the desk. */
  #schedulePoll(): void {
    this.#pollTimer = this.#d.setTimeout(() => void this.#poll(), POLL_MS);
  }

  async #poll(): Promise<void> {
    const shown = this.shown;
    if (!shown || shown.taken) return;
    try {
      const s = await this.#d.api.get<TicketStatus>(`/api/meetings/${this.meetingId}/roster/${shown.entryId}/ticket`);
      if (this.shown !== shown) return;
      if (s.state === 'redeemed' && s.ticketId === shown.ticket.id) {
        this.shown = { ...shown, taken: true };
        const taken = this.shown;
        this.#pollTimer = this.#d.setTimeout(() => {
          if (this.shown === taken) this.hideQr();
        }, TAKEN_SHOWN_MS);
        return;
      }
      // Replaced at another desk: this QR no longer works.
      if (s.ticketId !== shown.ticket.id) return this.hideQr();
    } catch {
      // The network blinked: keep showing the QR and ask again.
    }
    if (this.shown === shown) this.#schedulePoll();
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
