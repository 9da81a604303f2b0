import { api as defaultApi, describeError, type Api } from './api.ts';
import { LiveFeed } from './live.svelte.ts';
import type { Meeting, Turnout, Unit } from './types.ts';

export interface Quorum {
  needed: number;
  present: number;
  met: boolean;
  text: string;
}

/** The quorum as the server counts it (lifecycle.ts); a station needs its whole roster, which the desk can change. */
export function quorumOf(meeting: Meeting, turnout: Turnout): Quorum {
  const needed = meeting.unitKind === 'station' ? turnout.expected : meeting.quorum.needed;
  return { needed, present: turnout.present, met: turnout.present > 0 && turnout.present >= needed, text: meeting.quorum.text };
}

/** One meeting open on this laptop: its record, its unit (team, for the timers), and its live figures. */
export class MeetingStore {
  meeting = $state<Meeting | null>(null);
  unit = $state<Unit | null>(null);
  loadError = $state<{ message: string; hint: string } | null>(null);
  readonly live: LiveFeed;
  /** Live figures when the feed has them, else the meeting record's. */
  readonly turnout: Turnout | null;
  readonly quorum: Quorum | null;

  readonly id: number;
  readonly #api: Api;

  constructor(id: number, api: Api = defaultApi, live?: LiveFeed) {
    this.id = id;
    this.#api = api;
    this.live = live ?? new LiveFeed(id, { api });
    this.turnout = $derived(this.live.turnout ?? this.meeting?.turnout ?? null);
    this.quorum = $derived(this.meeting && this.turnout ? quorumOf(this.meeting, this.turnout) : null);
    this.live.onStateChange = () => void this.refresh();
  }

  async load(): Promise<void> {
    try {
      this.meeting = await this.#api.get<Meeting>(`/api/meetings/${this.id}`);
      this.loadError = null;
      this.unit = await this.#api.get<Unit>(`/api/units/${this.meeting.unitId}`).catch(() => null);
    } catch (e) {
      this.loadError = describeError(e);
    }
  }

  async refresh(): Promise<void> {
    try {
      this.meeting = await this.#api.get<Meeting>(`/api/meetings/${this.id}`);
      this.loadError = null;
    } catch (e) {
      this.loadError = describeError(e);
    }
  }

  /** After an action that answers with the meeting. */
  accept(m: Meeting): void {
    this.meeting = m;
    void this.live.poll();
  }
}
