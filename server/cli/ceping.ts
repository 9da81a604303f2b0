import { runCli } from './ceping.commands.ts';

// Entry point of `npx ceping` (bin/ceping.mjs loads this file through tsx).
process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  now: () => new Date(),
});
