import { z } from 'zod';
import { MAX_PASSWORD_LENGTH } from './password.ts';
import { Id } from '../shared/params.ts';
import { nonEmptyPatch } from '../http-errors.ts';

// The password policy (minimum length) is a rule of password.ts, checked by the service, so its
// Chinese message reaches the user; the schemas only bound the size.
const Password = z.string().min(1).max(MAX_PASSWORD_LENGTH);

/** Letters (Chinese included), digits, '_', '.', '-'; compared without case. */
export const Username = z
  .string()
  .trim()
  .min(2)
  .max(32)
  .regex(/^[\p{L}\p{N}_.-]+$/u, '用户名只能包含文字、字母、数字和 _ . -');
export const DisplayName = z.string().trim().min(1).max(40);
export const AdminRole = z.enum(['township', 'inspector']);

export const AdminPrincipal = z.object({
  id: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  role: AdminRole,
});
export type AdminPrincipal = z.infer<typeof AdminPrincipal>;

/** The CSRF token goes to the page (which sends it back as 'x-csrf-token'); the session token stays in the cookie. */
export const SessionResponse = z.object({ admin: AdminPrincipal, csrfToken: z.string() });
export type SessionResponse = z.infer<typeof SessionResponse>;

export const AuthStateResponse = z.object({ needsSetup: z.boolean() });
export type AuthStateResponse = z.infer<typeof AuthStateResponse>;

export const SetupRequest = z.object({
  code: z.string().trim().min(1).max(64),
  username: Username,
  displayName: DisplayName,
  password: Password,
});
export type SetupRequest = z.infer<typeof SetupRequest>;

/** Any string may be tried as a username; a malformed one is simply a bad login. */
export const LoginRequest = z.object({
  username: z.string().trim().min(1).max(64),
  password: Password,
});
export type LoginRequest = z.infer<typeof LoginRequest>;

export const AdminAccount = AdminPrincipal.extend({
  disabled: z.boolean(),
  createdAt: z.string(),
});
export type AdminAccount = z.infer<typeof AdminAccount>;

export const AdminAccountList = z.object({ admins: z.array(AdminAccount) });
export type AdminAccountList = z.infer<typeof AdminAccountList>;

export const CreateAccountRequest = z.object({
  username: Username,
  displayName: DisplayName,
  role: AdminRole,
  password: Password,
});
export type CreateAccountRequest = z.infer<typeof CreateAccountRequest>;

export const UpdateAccountRequest = nonEmptyPatch(
  z.object({
    displayName: DisplayName.optional(),
    disabled: z.boolean().optional(),
    /** A new password (reset by a township admin). */
    password: Password.optional(),
  }),
);
export type UpdateAccountRequest = z.infer<typeof UpdateAccountRequest>;


export const AdminIdParams = z.object({ id: Id });
export const MeetingIdParams = z.object({ meetingId: Id });
export const MeetingAdminParams = z.object({ meetingId: Id, adminId: Id });

export const AssignRequest = z.object({ adminId: z.number().int().positive() });
export type AssignRequest = z.infer<typeof AssignRequest>;

export const AssignedAdmin = z.object({
  adminId: z.number().int(),
  username: z.string(),
  displayName: z.string(),
  disabled: z.boolean(),
});
export const AssignmentList = z.object({ assignments: z.array(AssignedAdmin) });
export type AssignmentList = z.infer<typeof AssignmentList>;
