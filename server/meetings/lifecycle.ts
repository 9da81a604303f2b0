import type { MeetingState, UnitKind } from '../db/schema.ts';
import { DomainError, type ErrorCode } from '../errors.ts';

/** Guards return reasons, not booleans: the page shows why an action is refused. */
export type Guard = { ok: true } | { ok: false; reason: ErrorCode; message?: string; needed?: number; present?: number };

const OK: Guard = { ok: true };

export const STATE_LABELS: Record<MeetingState, string> = {
  draft: '准备中',
  signin: '签到中',
  voting: '测评中',
  closed: '测评已结束',
  sealed: '已封存',
};

/** Quorum for the 民主测评, counted from the sign-in sheet (notice §四.3). */
export function quorumNeeded(kind: UnitKind, rosterSize: number): number {
  switch (kind) {
    case 'village':
      return 70;
    case 'community':
      return 40;
    case 'station':
      return rosterSize;
  }
}

export function quorumText(kind: UnitKind): string {
  return kind === 'village' ? '村不少于70人' : kind === 'community' ? '社区不少于40人' : '站所全体干部职工';
}

function inState(state: MeetingState, allowed: MeetingState[]): Guard {
  if (state === 'sealed') return { ok: false, reason: 'MEETING_SEALED' };
  return allowed.includes(state)
    ? OK
    : { ok: false, reason: 'BAD_STATE', message: `会议当前为「${STATE_LABELS[state]}」，不能进行此操作` };
}

export const canEditSetup = (state: MeetingState): Guard => inState(state, ['draft']);
export const canStartSignIn = (state: MeetingState): Guard => inState(state, ['draft']);
export const canEditRoster = (state: MeetingState): Guard => inState(state, ['draft', 'signin', 'voting']);
/** Late arrivals may still sign in and vote while voting is open. */
export const canSignIn = (state: MeetingState): Guard => inState(state, ['signin', 'voting']);
export const canIssueSlips = (state: MeetingState): Guard => inState(state, ['signin', 'voting']);
export const canRehearse = (state: MeetingState): Guard => inState(state, ['signin']);
export const canEnterPaper = (state: MeetingState): Guard => inState(state, ['voting']);
export const canCloseVoting = (state: MeetingState): Guard => inState(state, ['voting']);
export const canSeal = (state: MeetingState): Guard => inState(state, ['closed']);

export interface OpenVotingInput {
  state: MeetingState;
  unitKind: UnitKind;
  rosterSize: number;
  signedIn: number;
  overrideReason?: string | null;
}

/** Opening voting checks the quorum; an inspection-team member may override it with a written reason. */
export function canOpenVoting(m: OpenVotingInput): Guard {
  const s = inState(m.state, ['signin']);
  if (!s.ok) return s;
  if (m.signedIn === 0) return { ok: false, reason: 'QUORUM_NOT_MET', message: '还没有人签到，不能开始测评', needed: 1, present: 0 };
  const needed = quorumNeeded(m.unitKind, m.rosterSize);
  if (m.signedIn >= needed) return OK;
  const reason = m.overrideReason?.trim() ?? '';
  if (reason.length >= 4) return OK;
  return {
    ok: false,
    reason: m.overrideReason ? 'OVERRIDE_REASON' : 'QUORUM_NOT_MET',
    message: `签到 ${m.signedIn} 人，未达到规定人数（${quorumText(m.unitKind)}，需 ${needed} 人）。如确需开始，请填写理由（至少4个字）`,
    needed,
    present: m.signedIn,
  };
}

/** Turn a refused guard into the error the user reads (with needed/present when the quorum is the reason). */
export function assertGuard(g: Guard): void {
  if (!g.ok) throw new DomainError(g.reason, g.message, g.needed !== undefined ? { needed: g.needed, present: g.present } : undefined);
}
