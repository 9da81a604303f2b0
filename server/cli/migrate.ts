import path from 'node:path';
import { loadConfig } from '../config.ts';
import { openStore } from '../db/database.ts';
import { migrateToLatest } from '../db/migrate.ts';
import { makePrivateDataDir } from '../shared/files.ts';

const config = loadConfig();
makePrivateDataDir(config.DATA_DIR);
const { db } = openStore({ databaseUrl: config.DATABASE_URL, file: path.join(config.DATA_DIR, 'ceping.db') });
await migrateToLatest(db);
await db.destroy();
process.stdout.write('migrated\n');
