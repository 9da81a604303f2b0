import { z } from 'zod';
import { TimerView } from '../timers/timers.schemas.ts';

export const Turnout = z.object({
  expected: z.number().int(),
  present: z.number().int(),
  issued: z.number().int(),
  returned: z.number().int(),
  paper: z.number().int(),
  /** paper forms handed out */
  paperIssued: z.number().int(),
  /** 补发 */
  reissued: z.number().int(),
});

/** Distributions as computed by the counting module (counting/tally.ts Results['parts']). */
export const Snapshot = z.object({
  count: z.number().int(),
  final: z.boolean(),
  parts: z.array(z.any()),
});
export type Snapshot = z.infer<typeof Snapshot>;

export const LiveState = z.object({
  meetingId: z.number().int(),
  state: z.enum(['draft', 'signin', 'voting', 'closed', 'sealed']),
  k: z.number().int(),
  turnout: Turnout,
  snapshot: Snapshot.nullable(),
});
export type LiveState = z.infer<typeof LiveState>;

/**
 * The live socket's messages, all JSON with a `type`:
 * - 'turnout': the meeting's state and counts (at once, on every change);
 * - 'snapshot': distributions, only as the k-rule allows (gate.ts);
 * - 'timers': the 述职 timers after every change (and once on connecting), for every window of the
 *   meeting: the projector, the timers page, a second laptop. Never anything about a ballot.
 */
export const TimersMessage = z.object({ type: z.literal('timers'), meetingId: z.number().int(), timers: TimerView });
export type TimersMessage = z.infer<typeof TimersMessage>;

export type LiveMessage =
  | ({ type: 'turnout' } & Omit<LiveState, 'snapshot'>)
  | ({ type: 'snapshot' } & { meetingId: number; snapshot: Snapshot })
  | TimersMessage;
