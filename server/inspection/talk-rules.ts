import type { MeetingState, UnitKind } from '../db/schema.ts';
import type { Guard } from '../meetings/lifecycle.ts';

/**
 * The notice's rule for 个别谈话 (§四.4): every team member, and ordinary party members and villagers
 * drawn at random — at a village or community at least 30 people in all, at a station every staff
 * member. Pure; guards return reasons.
 */

export const TALK_MINIMUM_TOTAL = 30;

export interface TalkMinimum {
  /** A station talks to every staff member: the list is the whole pool, nothing is drawn at random. */
  everyone: boolean;
  /** People in all (team + drawn) the rule asks for; the list is `shortfall` fewer when the pool is too small. */
  total: number;
  /** Drawn from the pool to reach it (capped by the pool). */
  drawn: number;
  /** How many the pool leaves the list short of the rule (0 when it is met). */
  shortfall: number;
  text: string;
}

export function talkRuleText(kind: UnitKind): string {
  return kind === 'station' ? '部门站所接触全体干部职工' : `村（社区）接触人数不少于${TALK_MINIMUM_TOTAL}人（含班子成员）`;
}

export function talkMinimum(kind: UnitKind, teamSize: number, poolSize: number): TalkMinimum {
  const text = talkRuleText(kind);
  if (kind === 'station') return { everyone: true, total: teamSize + poolSize, drawn: poolSize, shortfall: 0, text };
  const wanted = Math.max(0, TALK_MINIMUM_TOTAL - teamSize);
  const drawn = Math.min(wanted, poolSize);
  return { everyone: false, total: teamSize + wanted, drawn, shortfall: wanted - drawn, text };
}

/** How many to draw: the minimum unless the team asks for more (never fewer), at most the pool. */
export function drawCount(min: TalkMinimum, poolSize: number, requested: number | null | undefined): Guard & { count?: number } {
  if (min.everyone || requested === null || requested === undefined) return { ok: true, count: min.drawn };
  if (requested < min.drawn) return { ok: false, reason: 'DRAW_COUNT', message: `抽取人数不能少于规定的 ${min.drawn} 人（${min.text}）` };
  if (requested > poolSize) return { ok: false, reason: 'DRAW_COUNT', message: `可供抽取的只有 ${poolSize} 人，不能抽取 ${requested} 人` };
  return { ok: true, count: requested };
}

/** The draw uses the signed-in roster, so it waits until voting has opened (sign-in is then essentially done). */
export function canDraw(state: MeetingState): Guard {
  if (state === 'voting' || state === 'closed' || state === 'sealed') return { ok: true };
  return { ok: false, reason: 'BAD_STATE', message: '开始测评后（签到基本结束时）才能抽取谈话人员' };
}

export interface RedrawInput {
  /** Drawn people already talked to, or with notes written. */
  drawnTouched: number;
  reason: string | null | undefined;
}

/** A new draw replaces the drawn names: only with a written reason, and never once a drawn person has been talked to. */
export function canRedraw(r: RedrawInput): Guard {
  if (r.drawnTouched > 0) {
    return { ok: false, reason: 'TALKS_STARTED', message: `已有 ${r.drawnTouched} 名抽中人员谈话完毕或写了记录，不能重新抽取；需要更多人时请「追加抽取」` };
  }
  if ((r.reason?.trim() ?? '').length < 4) return { ok: false, reason: 'DRAW_REASON' };
  return { ok: true };
}

/** Drawing more with the same seed keeps everyone already drawn and appends the next names. */
export function canExtend(current: number, requested: number, poolSize: number, everyone: boolean): Guard {
  if (everyone) return { ok: false, reason: 'DRAW_COUNT', message: '站所的谈话名单是全体干部职工，不需要追加抽取' };
  if (requested <= current) return { ok: false, reason: 'DRAW_COUNT', message: `追加后的人数须多于现在的 ${current} 人` };
  if (requested > poolSize) return { ok: false, reason: 'DRAW_COUNT', message: `可供抽取的只有 ${poolSize} 人` };
  return { ok: true };
}
