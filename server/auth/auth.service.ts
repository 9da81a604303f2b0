import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServiceDeps } from '../deps.ts';
import type { DbOrTrx } from '../db/database.ts';
import type { AdminRole } from '../db/schema.ts';
import { isUniqueViolation } from '../db/dialect.ts';
import { DomainError } from '../errors.ts';
import { appendAudit } from '../audit/audit.repository.ts';
import { AuditEvent } from '../audit/audit.events.ts';
import { hashSecret } from '../credentials/secrets.ts';
import type { AdminPrincipal } from './auth.guard.ts';
import { assertPasswordPolicy, hashPassword, needsRehash, verifyPassword } from './password.ts';
import { FairQueue } from '../shared/fair-queue.ts';
import { LoginBrake, type LoginBrakeOptions } from './login-brake.ts';
import { addressKey } from '../net.ts';
import * as repo from './auth.repository.ts';

export interface AdminAccount extends AdminPrincipal {
  disabled: boolean;
  createdAt: string;
}

export interface AssignedAdmin {
  adminId: number;
  username: string;
  displayName: string;
  disabled: boolean;
}

/** What a new session hands the browser: the token goes into the cookie only, the CSRF token to the page. */
export interface SessionGrant {
  token: string;
  csrfToken: string;
  expiresAt: Date;
  admin: AdminPrincipal;
}

export type MeetingScope = { all: true } | { all: false; meetingIds: number[] };

const SESSION_TOKEN_BYTES = 32;
const SESSION_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

/** Full-width letters from a Chinese IME fold to ASCII, and case does not matter. */
export function normalizeUsername(username: string): string {
  return username.normalize('NFKC').trim().toLowerCase();
}

function digestEqual(a: string, b: string): boolean {
  // Hashing first makes the comparison take the same time whatever the lengths.
  const x = createHash('sha256').update(a).digest();
  const y = createHash('sha256').update(b).digest();
  return timingSafeEqual(x, y);
}

type AdminRow = NonNullable<Awaited<ReturnType<typeof repo.findAdminById>>>;

function toPrincipal(row: Pick<AdminRow, 'id' | 'username' | 'display_name' | 'role'>): AdminPrincipal {
  return { id: row.id, username: row.username, displayName: row.display_name, role: row.role };
}

function toAccount(row: AdminRow): AdminAccount {
  return { ...toPrincipal(row), disabled: row.disabled !== 0, createdAt: row.created_at };
}

export class AuthService {
  readonly #deps: ServiceDeps;
  /** Wrong passwords and set-up codes slow the address they come from, never an account (login-brake.ts). */
  readonly #brake: LoginBrake;
  #dummyHash: Promise<string> | null = null;

  /**
   * Password checks run one at a time. Each costs 64 MiB and a libuv worker; a flood of logins would
   * otherwise take all four workers, which also read the phone page's files from disk. Addresses take
   * turns, so a flood from one machine delays another machine's check by one check at most.
   */
  readonly #scrypt = new FairQueue(2);

  constructor(deps: ServiceDeps, brake: Partial<LoginBrakeOptions> = {}) {
    this.#deps = deps;
    this.#brake = new LoginBrake(brake);
  }

  /** Refuses (429, with the wait) an address that must wait before its next try. */
  #assertMayTry(address: string, now: Date): void {
    const d = this.#brake.check(address, now.getTime());
    if (!d.ok) {
      const seconds = Math.ceil(d.retryAfterMs / 1000);
      const wait = seconds >= 120 ? `${Math.ceil(seconds / 60)} 分钟` : `${seconds} 秒`;
      throw new DomainError('RATE_LIMITED', `这台电脑输错的次数太多，请 ${wait}后再试`, { retryAfterSeconds: seconds });
    }
  }

  // ---- first admin -------------------------------------------------------------------------

  async needsSetup(): Promise<boolean> {
    return (await repo.countAdmins(this.#deps.db)) === 0;
  }

  /** Creates the first township admin with the one-time code shown at start-up, and signs them in. */
  async setupFirstAdmin(code: string, input: { username: string; displayName: string; password: string }, address = ''): Promise<SessionGrant> {
    const { db, setupCode } = this.#deps;
    const now = this.#deps.now();
    if (!(await this.needsSetup())) throw new DomainError('SETUP_DONE');
    const key = addressKey(address);
    this.#assertMayTry(key, now);
    if (!setupCode || !digestEqual(code.trim(), setupCode)) {
      this.#brake.wrong(key, now.getTime());
      throw new DomainError('SETUP_CODE');
    }
    assertPasswordPolicy(input.password);
    const username = normalizeUsername(input.username);
    const passwordHash = await hashPassword(input.password, this.#deps.config.SCRYPT_LOG_N, this.#deps.random);

    return db.transaction().execute(async (trx) => {
      // Checked again inside the transaction: two set-up requests racing must not make two admins.
      if ((await repo.countAdmins(trx)) > 0) throw new DomainError('SETUP_DONE');
      const id = await repo.insertAdmin(trx, {
        username,
        displayName: input.displayName,
        role: 'township',
        passwordHash,
        createdAt: now.toISOString(),
      });
      const admin: AdminPrincipal = { id, username, displayName: input.displayName, role: 'township' };
      await appendAudit(trx, { at: now, actorId: id, meetingId: null, event: AuditEvent.ADMIN_SETUP, detail: { username } });
      return this.#createSession(trx, admin, now);
    });
  }

  // ---- sessions ----------------------------------------------------------------------------

  /** Check a username and password (braked per address, logged when wrong); returns the account row. */
  async #checkPassword(usernameInput: string, password: string, address: string) {
    const { db } = this.#deps;
    const key = addressKey(address);
    const username = normalizeUsername(usernameInput);
    this.#assertMayTry(key, this.#deps.now());

    // The account is looked up in the try's turn, not before it: a flood is refused before it reaches the
    // database, and a try takes its place in the queue when it arrives, however long look-ups take (on
    // PostgreSQL a flood's look-ups queue for the pool, and would let it take more turns than one per address).
    const checked = this.#scrypt.run(key, async () => {
      // Asked again when its turn comes: guesses queued together do not slip past the brake.
      this.#assertMayTry(key, this.#deps.now());
      const found = await repo.findAdminByUsername(db, username);
      // An unknown name costs one scrypt too, so timing does not tell which usernames exist.
      const stored = found?.password_hash ?? (await this.#dummyPasswordHash());
      return { row: found, ok: await verifyPassword(password, stored) };
    });
    if (!checked) throw new DomainError('RATE_LIMITED', '这台电脑同时提交的登录太多，请稍等片刻再试');
    const { row, ok } = await checked;
    const now = this.#deps.now();
    if (!row || !ok) {
      this.#brake.wrong(key, now.getTime());
      await appendAudit(db, { at: now, actorId: null, meetingId: null, event: AuditEvent.ADMIN_LOGIN_FAILED, detail: { username } });
      throw new DomainError('BAD_LOGIN');
    }
    if (row.disabled) {
      await appendAudit(db, { at: now, actorId: null, meetingId: null, event: AuditEvent.ADMIN_LOGIN_FAILED, detail: { username } });
      throw new DomainError('ACCOUNT_DISABLED');
    }
    this.#brake.right(key);
    return row;
  }

  /** A second person at the same laptop proves who they are (paper-ballot confirmation) without opening a session. */
  async verifyCredentials(username: string, password: string, address: string): Promise<AdminPrincipal> {
    return toPrincipal(await this.#checkPassword(username, password, address));
  }

  async login(usernameInput: string, password: string, address: string): Promise<SessionGrant> {
    const { db } = this.#deps;
    const now = this.#deps.now();
    const row = await this.#checkPassword(usernameInput, password, address);

    const logN = this.#deps.config.SCRYPT_LOG_N;
    // In the password checks' queue too, so no more than one scrypt runs at a time; when this address has
    // too many waiting, the hash is made again at a later login instead.
    const rehash = needsRehash(row.password_hash, logN) ? await this.#scrypt.run(addressKey(address), () => hashPassword(password, logN, this.#deps.random)) : null;

    return db.transaction().execute(async (trx) => {
      if (rehash) await repo.updateAdmin(trx, row.id, { password_hash: rehash });
      await repo.deleteExpiredSessions(trx, now.toISOString());
      await appendAudit(trx, { at: now, actorId: row.id, meetingId: null, event: AuditEvent.ADMIN_LOGIN });
      return this.#createSession(trx, toPrincipal(row), now);
    });
  }

  async logout(token: string): Promise<void> {
    if (!SESSION_TOKEN_PATTERN.test(token)) return;
    const now = this.#deps.now();
    await this.#deps.db.transaction().execute(async (trx) => {
      const adminId = await repo.deleteSession(trx, this.#sessionHash(token));
      if (adminId !== null) {
        await appendAudit(trx, { at: now, actorId: adminId, meetingId: null, event: AuditEvent.ADMIN_LOGOUT });
      }
    });
  }

  /** The admin behind a session token, or null when the token is unknown, expired or its account disabled. */
  async authenticate(token: string): Promise<(AdminPrincipal & { csrfToken: string }) | null> {
    if (!SESSION_TOKEN_PATTERN.test(token)) return null;
    const idHash = this.#sessionHash(token);
    const row = await repo.findSession(this.#deps.db, idHash);
    if (!row) return null;
    if (row.expires_at <= this.#deps.now().toISOString()) {
      await repo.deleteSession(this.#deps.db, idHash);
      return null;
    }
    if (row.disabled) return null;
    return { ...toPrincipal(row), csrfToken: row.csrf_token };
  }

  // ---- accounts (township only) ------------------------------------------------------------

  async listAccounts(): Promise<AdminAccount[]> {
    return (await repo.listAdmins(this.#deps.db)).map(toAccount);
  }

  async createAccount(
    actor: AdminPrincipal,
    input: { username: string; displayName: string; role: AdminRole; password: string },
  ): Promise<AdminAccount> {
    assertTownship(actor);
    assertPasswordPolicy(input.password);
    const username = normalizeUsername(input.username);
    const now = this.#deps.now();
    if (await repo.findAdminByUsername(this.#deps.db, username)) throw new DomainError('USERNAME_TAKEN');
    const passwordHash = await hashPassword(input.password, this.#deps.config.SCRYPT_LOG_N, this.#deps.random);
    try {
      return await this.#deps.db.transaction().execute(async (trx) => {
        const id = await repo.insertAdmin(trx, {
          username,
          displayName: input.displayName,
          role: input.role,
          passwordHash,
          createdAt: now.toISOString(),
        });
        await appendAudit(trx, {
          at: now,
          actorId: actor.id,
          meetingId: null,
          event: AuditEvent.ADMIN_CREATED,
          detail: { adminId: id, username, role: input.role },
        });
        return toAccount((await repo.findAdminById(trx, id))!);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new DomainError('USERNAME_TAKEN');
      throw err;
    }
  }

  /** Rename, disable/enable, or reset the password. Disabling or a reset by someone else ends that admin's sessions. */
  async updateAccount(
    actor: AdminPrincipal,
    adminId: number,
    patch: { displayName?: string; disabled?: boolean; password?: string },
  ): Promise<AdminAccount> {
    assertTownship(actor);
    const { db } = this.#deps;
    const now = this.#deps.now();
    const row = await repo.findAdminById(db, adminId);
    if (!row) throw new DomainError('NOT_FOUND', '未找到该账号');
    if (patch.disabled === true && adminId === actor.id) throw new DomainError('CANNOT_DISABLE_SELF');
    if (patch.password !== undefined) assertPasswordPolicy(patch.password);
    const passwordHash =
      patch.password !== undefined ? await hashPassword(patch.password, this.#deps.config.SCRYPT_LOG_N, this.#deps.random) : undefined;

    const changed: string[] = [];
    const set: { display_name?: string; disabled?: number; password_hash?: string } = {};
    if (patch.displayName !== undefined && patch.displayName !== row.display_name) {
      set.display_name = patch.displayName;
      changed.push('displayName');
    }
    if (patch.disabled !== undefined && patch.disabled !== (row.disabled !== 0)) {
      set.disabled = patch.disabled ? 1 : 0;
      changed.push('disabled');
    }
    if (passwordHash) {
      set.password_hash = passwordHash;
      changed.push('password');
    }

    return db.transaction().execute(async (trx) => {
      await repo.updateAdmin(trx, adminId, set);
      if (set.disabled === 1 || (passwordHash && adminId !== actor.id)) await repo.deleteSessionsOfAdmin(trx, adminId);
      if (changed.length > 0) {
        await appendAudit(trx, {
          at: now,
          actorId: actor.id,
          meetingId: null,
          event: AuditEvent.ADMIN_UPDATED,
          detail: { adminId, username: row.username, changed, ...(set.disabled !== undefined ? { disabled: set.disabled === 1 } : {}) },
        });
      }
      return toAccount((await repo.findAdminById(trx, adminId))!);
    });
  }

  // ---- meeting assignments -----------------------------------------------------------------

  async listAssignments(meetingId: number): Promise<AssignedAdmin[]> {
    const { db } = this.#deps;
    if (!(await repo.meetingExists(db, meetingId))) throw new DomainError('NOT_FOUND', '未找到该会议');
    const rows = await repo.listAssignmentsOfMeeting(db, meetingId);
    return rows.map((r) => ({ adminId: r.id, username: r.username, displayName: r.display_name, disabled: r.disabled !== 0 }));
  }

  async assignMeeting(actor: AdminPrincipal, meetingId: number, adminId: number): Promise<AssignedAdmin[]> {
    assertTownship(actor);
    const { db } = this.#deps;
    const now = this.#deps.now();
    if (!(await repo.meetingExists(db, meetingId))) throw new DomainError('NOT_FOUND', '未找到该会议');
    const admin = await repo.findAdminById(db, adminId);
    if (!admin) throw new DomainError('NOT_FOUND', '未找到该账号');
    if (admin.role !== 'inspector') throw new DomainError('NOT_INSPECTOR');
    await db.transaction().execute(async (trx) => {
      if (await repo.insertAssignment(trx, meetingId, adminId)) {
        await appendAudit(trx, {
          at: now,
          actorId: actor.id,
          meetingId,
          event: AuditEvent.MEETING_ASSIGNED,
          detail: { adminId, username: admin.username },
        });
      }
    });
    return this.listAssignments(meetingId);
  }

  /**
   * Removing an assignment that does not exist is not an error: the wanted state already holds. A meeting
   * that does not exist is (404, as listing and assigning answer): the desk has the wrong meeting.
   */
  async unassignMeeting(actor: AdminPrincipal, meetingId: number, adminId: number): Promise<void> {
    assertTownship(actor);
    const now = this.#deps.now();
    await this.#deps.db.transaction().execute(async (trx) => {
      if (!(await repo.meetingExists(trx, meetingId))) throw new DomainError('NOT_FOUND', '未找到该会议');
      if (await repo.deleteAssignment(trx, meetingId, adminId)) {
        await appendAudit(trx, { at: now, actorId: actor.id, meetingId, event: AuditEvent.MEETING_UNASSIGNED, detail: { adminId } });
      }
    });
  }

  /** Township admins see every meeting; an inspector only the meetings assigned to them. */
  async canAccessMeeting(admin: AdminPrincipal, meetingId: number): Promise<boolean> {
    if (admin.role === 'township') return true;
    return repo.assignmentExists(this.#deps.db, meetingId, admin.id);
  }

  /**
   * Looked up before any handler runs, so nothing is written for a meeting that does not exist. An
   * inspector learns nothing about meetings not assigned to them: a missing one is refused alike.
   */
  async assertMeetingAccess(admin: AdminPrincipal, meetingId: number): Promise<void> {
    if (!(await this.canAccessMeeting(admin, meetingId))) throw new DomainError('FORBIDDEN', '您没有权限查看此会议');
    if (!(await repo.meetingExists(this.#deps.db, meetingId))) throw new DomainError('NOT_FOUND', '未找到该会议');
  }

  /** For meeting lists: every meeting, or the ids assigned to this inspector. */
  async meetingScope(admin: AdminPrincipal): Promise<MeetingScope> {
    if (admin.role === 'township') return { all: true };
    return { all: false, meetingIds: await repo.listAssignedMeetingIds(this.#deps.db, admin.id) };
  }

  // ---- internals ---------------------------------------------------------------------------

  async #createSession(trx: DbOrTrx, admin: AdminPrincipal, now: Date): Promise<SessionGrant> {
    const token = this.#deps.random(SESSION_TOKEN_BYTES).toString('base64url');
    const csrfToken = this.#deps.random(SESSION_TOKEN_BYTES).toString('base64url');
    const expiresAt = new Date(now.getTime() + this.#deps.config.SESSION_HOURS * 3600 * 1000);
    await repo.insertSession(trx, { idHash: this.#sessionHash(token), adminId: admin.id, csrfToken, expiresAt: expiresAt.toISOString() });
    return { token, csrfToken, expiresAt, admin };
  }

  #sessionHash(token: string): string {
    return hashSecret(this.#deps.pepper, 'session', token);
  }

  #dummyPasswordHash(): Promise<string> {
    this.#dummyHash ??= hashPassword('not-a-real-password', this.#deps.config.SCRYPT_LOG_N, this.#deps.random);
    return this.#dummyHash;
  }
}

function assertTownship(actor: AdminPrincipal): void {
  if (actor.role !== 'township') throw new DomainError('FORBIDDEN');
}
