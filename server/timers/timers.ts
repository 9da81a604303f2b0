/**
 * The 述职 (report) timers of one meeting, as pure state: the secretary (at a station, the station
 * head) ≤ 6 minutes, every other team member ≤ 4 minutes. The server keeps one state per meeting and
 * applies every command with its own clock, so every window and laptop of the meeting shows the same
 * speaker and the same time; the live socket carries each change (timers.service.ts).
 */
export interface Speaker {
  name: string;
  /** What the projector shows under the name, e.g. 党组织书记述职（代表班子）. */
  role: string;
  seconds: number;
}

export interface TimerState {
  speakers: Speaker[];
  current: number;
  /** Server epoch ms when the running stretch began; null while paused. */
  runningSince: number | null;
  /** Ms used by the current speaker before the running stretch. */
  usedBefore: number;
  /** Whether the wall screen shows the timer (switching or starting a speaker shows it again). */
  shown: boolean;
  /** Increases with every change, so a window can ignore an older answer that arrives late. */
  version: number;
}

export const LEAD_SECONDS = 6 * 60;
export const MEMBER_SECONDS = 4 * 60;

export interface TeamMemberLike {
  name: string;
  position: string;
  isSecretary: boolean;
}

/** Who reports for the team: at a station the station head, elsewhere the party secretary. */
export function leadOf<T extends TeamMemberLike>(kind: string, members: T[]): T | undefined {
  if (kind === 'station') {
    const head = members.find((m) => m.position.includes('站长') && !m.position.includes('副站长'));
    if (head) return head;
  }
  return members.find((m) => m.isSecretary) ?? members[0];
}

export function defaultSpeakers(kind: string, members: TeamMemberLike[]): Speaker[] {
  const lead = leadOf(kind, members);
  const list: Speaker[] = [];
  if (lead) list.push({ name: lead.name, role: kind === 'station' ? '站长述职（代表班子）' : '党组织书记述职（代表班子）', seconds: LEAD_SECONDS });
  for (const m of members) if (m !== lead) list.push({ name: m.name, role: `${m.position} 个人述职`, seconds: MEMBER_SECONDS });
  return list;
}

export function initialTimers(speakers: Speaker[]): TimerState {
  return { speakers, current: 0, runningSince: null, usedBefore: 0, shown: true, version: 0 };
}

export type TimerCommand =
  | { action: 'start' | 'pause' | 'reset' | 'next' | 'previous' | 'show' | 'hide' }
  | { action: 'select'; index: number }
  | { action: 'setMinutes'; index: number; minutes: number }
  | { action: 'regenerate' };

export function usedMs(s: TimerState, now: number): number {
  return s.usedBefore + (s.runningSince !== null ? Math.max(0, now - s.runningSince) : 0);
}

/** The state after a command at server time `now`. `team` gives the speakers for 'regenerate'. */
export function applyTimerCommand(s: TimerState, cmd: TimerCommand, now: number, team: () => Speaker[]): TimerState {
  const next = (patch: Partial<TimerState>): TimerState => ({ ...s, ...patch, version: s.version + 1 });
  const fresh = (current: number) => next({ current, runningSince: null, usedBefore: 0, shown: true });
  switch (cmd.action) {
    case 'start':
      if (s.runningSince !== null || !s.speakers[s.current]) return next({ shown: true });
      return next({ runningSince: now, shown: true });
    case 'pause':
      if (s.runningSince === null) return next({});
      return next({ usedBefore: usedMs(s, now), runningSince: null });
    case 'reset':
      return next({ runningSince: null, usedBefore: 0, shown: true });
    case 'next':
      return s.current + 1 < s.speakers.length ? fresh(s.current + 1) : next({ shown: true });
    case 'previous':
      return s.current > 0 ? fresh(s.current - 1) : next({ shown: true });
    case 'select':
      return cmd.index >= 0 && cmd.index < s.speakers.length ? fresh(cmd.index) : next({});
    case 'setMinutes': {
      if (cmd.index < 0 || cmd.index >= s.speakers.length) return next({});
      const seconds = Math.round(cmd.minutes * 60);
      return next({ speakers: s.speakers.map((x, i) => (i === cmd.index ? { ...x, seconds } : x)) });
    }
    case 'regenerate':
      return { ...initialTimers(team()), version: s.version + 1 };
    case 'show':
      return next({ shown: true });
    case 'hide':
      return next({ shown: false });
  }
}
