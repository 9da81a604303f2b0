import { z } from 'zod';

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

export type LiveMessage = ({ type: 'turnout' } & Omit<LiveState, 'snapshot'>) | ({ type: 'snapshot' } & { meetingId: number; snapshot: Snapshot });
