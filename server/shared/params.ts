import { z } from 'zod';

/**
 * An id in a path: decimal digits only, no sign, no leading zero, no space, no exponent or hex
 * (`0x1`, `+1`, ` 1`, `1e2` are refused), at most Number.MAX_SAFE_INTEGER.
 */
export const Id = z
  .string()
  .regex(/^[1-9][0-9]{0,15}$/)
  .transform(Number)
  .pipe(z.number().int().positive().max(Number.MAX_SAFE_INTEGER));

export const IdParams = z.object({ id: Id });
