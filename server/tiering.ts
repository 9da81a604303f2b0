import { setFlagsFromString } from 'node:v8';

/**
 * V8 optimises a function once it has used up its interrupt budget three times. A function called once
 * per request (Node's HTTP parser callbacks, Fastify's hooks, the cast route) reached the optimising
 * compiler only after 1,000-1,500 requests with the default budget of 67,584 bytes of bytecode. A hall's
 * meeting is a few hundred casts, so nearly all of it ran in the baseline tiers. With an eighth of the
 * budget, casts 800-2,000 of a fresh server cost about 30 % less CPU and came 20-35 % faster (bench/README.md,
 * "The optimising compiler, sooner").
 *
 * Set here, before the server starts, rather than on node's command line: node refuses a V8 flag its V8
 * does not know (exit code 9), and the flag is known to exist in Node 20's V8 (11.x) only, where it was
 * measured. A function's budget is read from the flag each time it is reset, so setting it at run time
 * works like the command line from the next reset on.
 */
export const INTERRUPT_BUDGET = 8192;

export function tuneTiering(v8Version: string = process.versions.v8): boolean {
  if (Number(v8Version.split('.')[0]) !== 11) return false;
  setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
  return true;
}

tuneTiering();
