#!/usr/bin/env node
// `npx ceping …`: the CLI is TypeScript like the server, so register tsx's loader and import it.
import { register } from 'tsx/esm/api';

register();
await import(new URL('../server/cli/ceping.ts', import.meta.url).href);
