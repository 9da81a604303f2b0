import { z } from 'zod';
import { Id } from '../shared/params.ts';

export const MeetingParams = z.object({ id: Id });
export const EntryParams = MeetingParams.extend({ entryId: Id });

export const RosterEntry = z.object({
  id: z.number(),
  name: z.string(),
  category: z.string(),
  note: z.string(),
  walkIn: z.boolean(),
  signedIn: z.boolean(),
});
export type RosterEntry = z.infer<typeof RosterEntry>;

export const RosterEntryInput = z.object({
  name: z.string().trim().min(1).max(20),
  category: z.string().trim().min(1).max(20),
  note: z.string().trim().max(40).default(''),
  walkIn: z.boolean().default(false),
});

/** How the person receives a ballot at the desk: a QR on the desk screen, a printed slip, or a paper form. */
export const Handout = z.enum(['qr', 'slip', 'paper']);
export type Handout = z.infer<typeof Handout>;
export const SignInBody = z.object({
  handout: Handout.default('qr'),
  /** With 'slip': the number printed on the slip handed over (typed or scanned at the desk). */
  slipSerial: z.number().int().positive().max(1_000_000).nullable().default(null),
});

/** A ticket as the desk shows it (or a slip prints it): its secret appears only here, once. */
export const IssuedTicket = z.object({
  id: z.string(),
  /** The QR's secret; the QR encodes `url`, which carries it in the fragment. */
  secret: z.string(),
  shortCode: z.string(),
  url: z.string(),
  /** The number printed on a slip (null for a desk QR). */
  serial: z.number().int().nullable(),
});
export const SignInResponse = z.object({ entry: RosterEntry, ticket: IssuedTicket.nullable() });

/** Where a person's ticket stands (the desk polls it while the QR is on the screen). */
export const TicketStatus = z.object({
  ticketId: z.string().nullable(),
  kind: z.enum(['qr', 'slip']).nullable(),
  serial: z.number().int().nullable(),
  /** none: paper form or no ticket; issued: not yet scanned; redeemed: a phone has taken it (已领取). */
  state: z.enum(['none', 'issued', 'redeemed']),
  /** Whether 重新显示 works (unredeemed, and this server process still holds the secret). */
  canShowAgain: z.boolean(),
});
export type TicketStatus = z.infer<typeof TicketStatus>;
export const ReissueBody = z.object({ reason: z.string().trim().min(4).max(200) });

export const SlipsBody = z.object({ count: z.number().int().min(1).max(1000) });
export const SlipsResponse = z.object({ slips: z.array(IssuedTicket) });

export const ImportBody = z.object({
  filename: z.string().min(1).max(200),
  /** The file's bytes, base64: keeps the API JSON-only (no multipart parser on the server). */
  dataBase64: z.string().max(14_000_000),
  /** false: check and preview only; true: replace the not-yet-signed-in entries with the file's rows. */
  commit: z.boolean(),
});
export const ImportResponse = z.object({
  rows: z.array(z.object({ name: z.string(), category: z.string(), note: z.string() })),
  errors: z.array(z.object({ row: z.number(), message: z.string() })),
  committed: z.boolean(),
});
