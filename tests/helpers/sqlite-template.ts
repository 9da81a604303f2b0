/**
 * A migrated SQLite file made once per test run (a vitest globalSetup of the `node` and `pg` projects),
 * which each test's fresh database is copied from: running every migration on a new file costs about
 * 0.5 s unloaded (1.7 s with the machine busy: each migration's commit waits for the disk), against a
 * millisecond for the copy. PostgreSQL's test databases are made the same way (CREATE DATABASE … TEMPLATE,
 * tests/helpers/pg.ts). A test still runs migrateToLatest on its copy, which finds nothing to do unless the
 * migrations changed since the run began.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openSqliteStore } from '../../server/db/database.ts';
import { migrateToLatest } from '../../server/db/migrate.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The run's migrated SQLite file, to copy (absent in projects without this setup: they migrate their own). */
    sqliteTemplate: string | null;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ceping-template-'));
  const file = path.join(dir, 'template.db');
  const store = openSqliteStore(file);
  try {
    await migrateToLatest(store.db);
  } finally {
    // Closing leaves the file whole on its own (the rollback journal is gone), so a copy is a database.
    await store.db.destroy();
  }
  project.provide('sqliteTemplate', file);
  return () => rmSync(dir, { recursive: true, force: true });
}

/**
 * Copy the run's migrated file to `file`; false when this project has none, or outside vitest (the bench's
 * scripts build test apps too: `inject` throws there): then the caller migrates.
 */
export async function copySqliteTemplate(file: string): Promise<boolean> {
  if (!process.env.VITEST) return false;
  const { inject } = await import('vitest');
  const template = inject('sqliteTemplate');
  if (!template) return false;
  copyFileSync(template, file);
  return true;
}
