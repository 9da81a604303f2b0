import { z } from 'zod';

export const Speaker = z.object({ name: z.string(), role: z.string(), seconds: z.number().int() });

/**
 * The timers as every window shows them, at the moment the server sent this: the time used by the
 * current speaker then, and whether it is running. A window adds its own elapsed time since it
 * received the view, so laptop clocks never need to agree with the server's.
 */
export const TimerView = z.object({
  meetingId: z.number().int(),
  speakers: z.array(Speaker),
  current: z.number().int(),
  running: z.boolean(),
  usedMs: z.number().int(),
  shown: z.boolean(),
  version: z.number().int(),
});
export type TimerView = z.infer<typeof TimerView>;

const index = z.number().int().min(0).max(200);

/** POST /api/meetings/:id/timers: one command from a team member (session and CSRF header, as every POST). */
export const TimerCommandBody = z.discriminatedUnion('action', [
  z.object({ action: z.enum(['start', 'pause', 'reset', 'next', 'previous', 'show', 'hide', 'regenerate']) }),
  z.object({ action: z.literal('select'), index }),
  z.object({ action: z.literal('setMinutes'), index, minutes: z.number().min(0.5).max(30) }),
]);
export type TimerCommandBody = z.infer<typeof TimerCommandBody>;
