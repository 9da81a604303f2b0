import { z } from 'zod';

export const MeetingParams = z.object({ id: z.coerce.number().int().positive() });
export const EntryParams = MeetingParams.extend({ entryId: z.coerce.number().int().positive() });

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
export const SignInBody = z.object({ handout: Handout.default('qr') });

export const IssuedCredential = z.object({ token: z.string(), shortCode: z.string(), url: z.string() });
export const SignInResponse = z.object({ entry: RosterEntry, credential: IssuedCredential.nullable() });

export const SlipsBody = z.object({ count: z.number().int().min(1).max(1000) });
export const SlipsResponse = z.object({ slips: z.array(IssuedCredential) });

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
