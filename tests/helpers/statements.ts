/**
 * Every SQL statement a better-sqlite3 connection runs or compiles, counted at better-sqlite3 itself
 * (under Kysely and anything else): the tests bound what a path costs the database as a number, never
 * as a time.
 */
import type Database from 'better-sqlite3';

export interface Counts {
  statements: number;
  prepares: number;
  /** The SQL of each statement run, for the message when a bound fails. */
  sql: Map<string, number>;
  /** The SQL of each statement compiled. */
  prepared: Map<string, number>;
}

/**
 * Count every statement `sqlite` runs (run/get/all/iterate on any of its statements, and exec) and
 * every statement it compiles, until the returned stop() is called.
 */
export function countStatements(sqlite: Database.Database): { counts: Counts; stop: () => void } {
  const counts: Counts = { statements: 0, prepares: 0, sql: new Map(), prepared: new Map() };
  const statementProto = Object.getPrototypeOf(sqlite.prepare('select 1')) as Record<string, (...a: unknown[]) => unknown>;
  const restore: (() => void)[] = [];
  for (const method of ['run', 'get', 'all', 'iterate']) {
    const original = statementProto[method]!;
    statementProto[method] = function (this: Database.Statement, ...args: unknown[]) {
      if (this.database === sqlite) {
        counts.statements++;
        counts.sql.set(this.source, (counts.sql.get(this.source) ?? 0) + 1);
      }
      return original.apply(this, args);
    };
    restore.push(() => (statementProto[method] = original));
  }
  const { prepare, exec } = sqlite;
  sqlite.prepare = function (this: Database.Database, ...args: Parameters<Database.Database['prepare']>) {
    counts.prepares++;
    counts.prepared.set(args[0], (counts.prepared.get(args[0]) ?? 0) + 1);
    return prepare.apply(this, args);
  } as Database.Database['prepare'];
  sqlite.exec = function (this: Database.Database, source: string) {
    counts.statements++;
    counts.sql.set(source, (counts.sql.get(source) ?? 0) + 1);
    return exec.call(this, source);
  };
  restore.push(() => {
    sqlite.prepare = prepare;
    sqlite.exec = exec;
  });
  return { counts, stop: () => restore.forEach((r) => r()) };
}

/** What ran and what was compiled, most frequent first: the message when a bound fails. */
export function breakdown(c: Counts): string {
  const list = (m: Map<string, number>) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([sql, n]) => `  ${n}× ${sql.replace(/\s+/g, ' ').slice(0, 120)}`).join('\n');
  return `statements run:\n${list(c.sql)}\nstatements compiled:\n${list(c.prepared)}`;
}
