import { z } from 'zod';
import { ERRORS } from './errors.ts';

/** The one error shape, `{ error: { code, message } }`, with every code of the registry. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(Object.keys(ERRORS) as [keyof typeof ERRORS, ...(keyof typeof ERRORS)[]]),
      message: z.string().describe('Chinese, for the user; never repeats the request'),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .describe('Refused: { error: { code, message } }');
