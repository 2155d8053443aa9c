import { createHash } from 'node:crypto';
import type { Logger } from '../../protocol/logger.js';
import { FailureThrottle, type FailureThrottleOptions } from '../auth/failureThrottle.js';
import type { RegistryDb } from '../store/sql/registryDb.js';
import { recordAudit } from './audit.js';
import { actorOf, type Principal } from './roles.js';
import { createSession, endSession } from './sessions.js';
import { checkLogin, getUser, usernameSchema } from './users.js';

export interface LoginAttempt {
  readonly username: string;
  readonly password: string;
  readonly address: string;
  /** The session the browser brought, ended on a successful login. */
  readonly sessionId: string | null;
}

export type LoginOutcome =
  | { readonly ok: true; readonly principal: Principal; readonly session: { readonly id: string; readonly csrfToken: string } }
  | { readonly ok: false; readonly refusal: 'wrong-credentials' }
  | { readonly ok: false; readonly refusal: 'throttled'; readonly retryAfterS: number };

/**
 * Password logins, one desk for every door (the JSON API's POST /api/session and the console's
 * login form): one failure throttle per central, so two doors do not double an attacker's
 * budget. Failed logins are slowed per username and per address; past a few free failures a
 * source must wait before its next attempt is even checked.
 */
export class LoginDesk {
  private readonly throttle: FailureThrottle;

  constructor(
    private readonly deps: { readonly db: RegistryDb; readonly logger: Logger; readonly now: () => number; readonly failures: FailureThrottleOptions },
  ) {
    this.throttle = new FailureThrottle(deps.failures, { logger: deps.logger, now: deps.now });
  }

  async login(attempt: LoginAttempt): Promise<LoginOutcome> {
    const { db, logger, now } = this.deps;
    const { username, password, address } = attempt;
    // The throttle names the usernames it slows in its log line; a password typed into the
    // username field must not land there, so unknown names are counted by a hash.
    const known = usernameSchema.safeParse(username).success && (await getUser(db, username)) !== null;
    const sources = { address, username: known ? username : `unknown#${createHash('sha256').update(username).digest('hex').slice(0, 12)}` };
    const waitMs = this.throttle.waitOwed(sources);
    if (waitMs > 0) return { ok: false, refusal: 'throttled', retryAfterS: Math.ceil(waitMs / 1000) };
    const user = await checkLogin(db, username, password);
    if (user === null) {
      this.throttle.recordFailure(sources);
      logger.info({ address }, 'api.login-failed');
      return { ok: false, refusal: 'wrong-credentials' };
    }
    this.throttle.recordSuccess(user.username);
    // Always a new id: whatever cookie the browser brought is not promoted to a session
    // (fixation); a live session it brought ends, so switching user leaves nothing behind.
    if (attempt.sessionId !== null) await endSession(db, attempt.sessionId);
    const session = await createSession(db, user.username, address, now());
    const principal: Principal = { kind: 'user', id: user.username, role: user.role, unit: user.unit, checkpoints: user.checkpoints, readOnly: false };
    await recordAudit(db, { actor: actorOf(principal), action: 'session.login', target: user.username, source: address }, now());
    logger.info({ username: user.username, role: user.role }, 'api.login');
    return { ok: true, principal, session };
  }
}
