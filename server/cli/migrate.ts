import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config.ts';
import { openStore } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';

const config = loadConfig();
mkdirSync(config.DATA_DIR, { recursive: true });
const { db } = openStore({ databaseUrl: config.DATABASE_URL, file: path.join(config.DATA_DIR, 'ceping.db') });
await migrateToLatest(db);
await db.destroy();
process.stdout.write('migrated\n');
