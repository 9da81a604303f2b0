import { z } from 'zod';
import { TimerView } from '../timers/timers.schemas.ts';
import { PartResult } from '../counting/results.schemas.ts';

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
  parts: z.array(PartResult),
});
export type Snapshot = z.infer<typeof Snapshot>;

const MeetingState = z.enum(['draft', 'signin', 'voting', 'closed', 'sealed']);

export const LiveState = z.object({
  meetingId: z.number().int(),
  state: MeetingState,
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

/** Sent on connect and whenever a count changes: turnout at once, never a distribution. */
export const TurnoutMessage = z.object({
  type: z.literal('turnout'),
  meetingId: z.number().int(),
  state: MeetingState,
  k: z.number().int(),
  turnout: Turnout,
});

/** Sent on connect (when there is one) and at each step of k new phone ballots, or at close. */
export const SnapshotMessage = z.object({ type: z.literal('snapshot'), meetingId: z.number().int(), snapshot: Snapshot });

/** Every message the live websocket sends (the server reads nothing from the socket). */
export const LiveMessage = z.discriminatedUnion('type', [TurnoutMessage, SnapshotMessage, TimersMessage]);
export type LiveMessage = z.infer<typeof LiveMessage>;

/** The websocket as the API description states it (x-websocket on GET /api/meetings/{id}/live/ws). */
export const LIVE_SOCKET = {
  description:
    'A websocket upgrade. Needs the session cookie and an Origin header naming this server. The server sends JSON text ' +
    'messages, one of `messages`, and reads nothing from the client. On connect: a turnout message, the latest ' +
    'snapshot if there is one, and the timers. The socket is closed with one of `closeCodes`.',
  direction: 'server-to-client',
  messages: {
    turnout: z.toJSONSchema(TurnoutMessage, { io: 'output' }),
    snapshot: z.toJSONSchema(SnapshotMessage, { io: 'output' }),
    timers: z.toJSONSchema(TimersMessage, { io: 'output' }),
  },
  closeCodes: {
    1001: 'the server is closing',
    1009: 'a frame from the client over 64 KiB',
    1011: 'the session could not be checked',
    4001: 'the session ended, the account was disabled, or the meeting is no longer assigned to it',
  },
} as const;
