import type { ServiceDeps } from '../deps.ts';
import type { DbOrTrx } from '../db/database.ts';
import { lockMeeting } from '../db/dialect.ts';
import { DomainError } from '../errors.ts';
import type { LiveHub } from '../live/live.hub.ts';
import { findMeeting } from '../meetings/meetings.repository.ts';
import { listMembers } from '../setup/setup.repository.ts';
import { applyTimerCommand, defaultSpeakers, initialTimers, usedMs, type Speaker, type TimerCommand, type TimerState } from './timers.ts';
import type { TimerView } from './timers.schemas.ts';
import * as repo from './timers.repository.ts';

/**
 * The meeting's 述职 timers, kept in the database so that a reload or a second laptop finds them as
 * they are, and pushed to every open window of the meeting over the live socket ('timers' messages).
 * Not audited: starting and pausing a clock is not an action on the meeting's record.
 */
export class TimerService {
  readonly #d: ServiceDeps;
  readonly #live: LiveHub;

  constructor(deps: ServiceDeps, live: LiveHub) {
    this.#d = deps;
    this.#live = live;
  }

  async view(meetingId: number): Promise<TimerView> {
    const { state } = await this.#read(this.#d.db, meetingId);
    return this.#viewOf(meetingId, state);
  }

  async command(meetingId: number, cmd: TimerCommand): Promise<TimerView> {
    const message = await this.#d.db.transaction().execute(async (trx) => {
      // Two windows on two server processes pressing at once: one command after the other.
      await lockMeeting(trx, this.#d.store.dialect, meetingId);
      const { state, team, meeting } = await this.#read(trx, meetingId);
      if (meeting.state === 'sealed') throw new DomainError('MEETING_SEALED');
      const now = this.#d.now();
      const next = applyTimerCommand(state, cmd, now.getTime(), team);
      await repo.saveTimers(trx, meetingId, JSON.stringify(next), now.toISOString());
      const m = { type: 'timers' as const, meetingId, timers: this.#viewOf(meetingId, next) };
      await this.#live.announce(trx, m);
      return m;
    });
    this.#live.deliver(message);
    return message.timers;
  }

  async #read(db: DbOrTrx, meetingId: number): Promise<{ state: TimerState; team: () => Speaker[]; meeting: { state: string } }> {
    const meeting = await findMeeting(db, meetingId);
    if (!meeting) throw new DomainError('NOT_FOUND');
    const members = (await listMembers(db, [meeting.unit_id])).map((m) => ({ name: m.name, position: m.position, isSecretary: m.is_secretary === 1 }));
    const team = () => defaultSpeakers(meeting.unit_kind, members);
    const row = await repo.findTimers(db, meetingId);
    // Until someone first touches the timers, they follow the unit's team as it is now.
    const state = row ? (JSON.parse(row.state_json) as TimerState) : initialTimers(team());
    return { state, team, meeting };
  }

  #viewOf(meetingId: number, s: TimerState): TimerView {
    return {
      meetingId, speakers: s.speakers, current: s.current, running: s.runningSince !== null,
      usedMs: usedMs(s, this.#d.now().getTime()), shown: s.shown, version: s.version,
    };
  }
}
