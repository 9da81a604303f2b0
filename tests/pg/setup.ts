import { afterAll } from 'vitest';
import { settlePrefetch } from '../helpers/pg.ts';

// The `pg` project's files: let the database made ahead for a next test finish before the worker exits.
afterAll(settlePrefetch);
