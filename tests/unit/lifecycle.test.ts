/**
 * The meeting's guards as pure functions: which state allows what, the quorum of the notice (村 70,
 * 社区 40, 站所 everyone), and the written reason that overrides it (at least 4 characters, not
 * counting spaces around it).
 */
import { describe, expect, it } from 'vitest';
import type { MeetingState } from '../../server/db/schema.ts';
import { DomainError } from '../../server/errors.ts';
import {
  assertGuard, canCloseVoting, canEditRoster, canEditSetup, canEnterPaper, canIssueSlips, canOpenVoting, canRehearse, canSeal, canSignIn,
  canStartSignIn, quorumNeeded, quorumText, STATE_LABELS,
} from '../../server/meetings/lifecycle.ts';

const STATES: MeetingState[] = ['draft', 'signin', 'voting', 'closed', 'sealed'];

describe('state guards', () => {
  // Written out by hand from the lifecycle: draft → 签到 → 测评 → 结束 → 封存.
  const allowed: [string, (s: MeetingState) => { ok: boolean }, MeetingState[]][] = [
    ['edit setup', canEditSetup, ['draft']],
    ['start sign-in', canStartSignIn, ['draft']],
    ['edit roster', canEditRoster, ['draft', 'signin', 'voting']],
    ['sign in', canSignIn, ['signin', 'voting']],
    ['issue slips', canIssueSlips, ['signin', 'voting']],
    ['rehearse', canRehearse, ['signin']],
    ['enter paper', canEnterPaper, ['voting']],
    ['close voting', canCloseVoting, ['voting']],
    ['seal', canSeal, ['closed']],
  ];

  for (const [what, guard, states] of allowed) {
    it(`${what}: only in ${states.join(', ')}`, () => {
      for (const s of STATES) expect(guard(s).ok, `${what} in ${s}`).toBe(states.includes(s));
    });
  }

  it('a sealed meeting says so; any other wrong state names the state in Chinese', () => {
    expect(canEnterPaper('sealed')).toEqual({ ok: false, reason: 'MEETING_SEALED' });
    expect(canEnterPaper('closed')).toEqual({ ok: false, reason: 'BAD_STATE', message: '会议当前为「测评已结束」，不能进行此操作' });
    expect(canSeal('draft')).toEqual({ ok: false, reason: 'BAD_STATE', message: '会议当前为「准备中」，不能进行此操作' });
    expect(STATE_LABELS).toEqual({ draft: '准备中', signin: '签到中', voting: '测评中', closed: '测评已结束', sealed: '已封存' });
  });
});

describe('quorum', () => {
  it('is 70 for a village and 40 for a community whatever the roster, the whole roster for a station', () => {
    expect(quorumNeeded('village', 12)).toBe(70);
    expect(quorumNeeded('village', 300)).toBe(70);
    expect(quorumNeeded('community', 12)).toBe(40);
    expect(quorumNeeded('station', 12)).toBe(12);
    expect(quorumText('village')).toBe('村不少于70人');
    expect(quorumText('community')).toBe('社区不少于40人');
    expect(quorumText('station')).toBe('站所全体干部职工');
  });
});

describe('opening voting', () => {
  const village = (signedIn: number, overrideReason?: string | null) =>
    canOpenVoting({ state: 'signin', unitKind: 'village', rosterSize: 90, signedIn, overrideReason });

  it('opens at the quorum exactly, and refuses one below it with the figures', () => {
    expect(village(70)).toEqual({ ok: true });
    expect(village(69)).toEqual({
      ok: false, reason: 'QUORUM_NOT_MET', needed: 70, present: 69,
      message: '签到 69 人，未达到规定人数（村不少于70人，需 70 人）。如确需开始，请填写理由（至少4个字）',
    });
    expect(canOpenVoting({ state: 'signin', unitKind: 'station', rosterSize: 12, signedIn: 11 })).toMatchObject({ ok: false, needed: 12, present: 11 });
    expect(canOpenVoting({ state: 'signin', unitKind: 'community', rosterSize: 45, signedIn: 40 })).toEqual({ ok: true });
  });

  it('a written reason of 4 characters overrides the quorum; 3 do not, nor do spaces around them', () => {
    expect(village(69, '暴雨停电')).toEqual({ ok: true });
    expect(village(69, '  暴雨停电  ')).toEqual({ ok: true });
    expect(village(69, '暴雨了')).toMatchObject({ ok: false, reason: 'OVERRIDE_REASON', needed: 70, present: 69 });
    expect(village(69, '  暴雨了  ')).toMatchObject({ ok: false, reason: 'OVERRIDE_REASON' });
    expect(village(69, '        ')).toMatchObject({ ok: false, reason: 'OVERRIDE_REASON' });
    // No reason at all is the quorum's refusal, not a reason's.
    expect(village(69, null)).toMatchObject({ ok: false, reason: 'QUORUM_NOT_MET' });
    expect(village(69, '')).toMatchObject({ ok: false, reason: 'QUORUM_NOT_MET' });
  });

  it('nobody signed in is never overridden, whatever the reason or the roster', () => {
    const g = canOpenVoting({ state: 'signin', unitKind: 'station', rosterSize: 0, signedIn: 0, overrideReason: '人员都已请假外出' });
    expect(g).toEqual({ ok: false, reason: 'QUORUM_NOT_MET', message: '还没有人签到，不能开始测评', needed: 1, present: 0 });
  });

  it('only from sign-in', () => {
    for (const s of STATES.filter((x) => x !== 'signin')) {
      expect(canOpenVoting({ state: s, unitKind: 'station', rosterSize: 1, signedIn: 1 }).ok, s).toBe(false);
    }
    expect(canOpenVoting({ state: 'sealed', unitKind: 'station', rosterSize: 1, signedIn: 1 })).toEqual({ ok: false, reason: 'MEETING_SEALED' });
  });
});

describe('assertGuard', () => {
  /** The error a refused guard turns into. */
  const refusal = (g: ReturnType<typeof canSeal>): DomainError => {
    try {
      assertGuard(g);
    } catch (e) {
      return e as DomainError;
    }
    throw new Error('assertGuard let a refusal through');
  };

  it('passes an allowed guard and throws the refusal as the user reads it', () => {
    expect(() => assertGuard({ ok: true })).not.toThrow();
    const quorum = refusal(canOpenVoting({ state: 'signin', unitKind: 'village', rosterSize: 90, signedIn: 69 }));
    expect(quorum).toBeInstanceOf(DomainError);
    expect(quorum.code).toBe('QUORUM_NOT_MET');
    expect(quorum.message).toContain('签到 69 人');
    expect(quorum.details).toEqual({ needed: 70, present: 69 });
    const state = refusal(canSeal('voting'));
    expect(state.code).toBe('BAD_STATE');
    expect(state.message).toBe('会议当前为「测评中」，不能进行此操作');
    expect(state.details).toBeUndefined();
  });
});
