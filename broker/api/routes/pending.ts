import { z } from 'zod';
import { checkpointCodeSchema, parseCheckpointCode } from '../../../protocol/checkpointCode.js';
import { maxNoteLength } from '../../../protocol/event.js';
import { memberViewFor } from '../../access/memberView.js';
import { actorOf, seesCheckpoint, type Principal } from '../../access/roles.js';
import type { PendingScan } from '../../guard/pendingScans.js';
import { credentialHasPhoto } from '../../registry/memberPhotos.js';
import { NoBrokerError, TerminalOfflineError, type CommandFields, type TerminalCommands } from '../../guard/terminalCommands.js';
import type { CommandName } from '../../../protocol/messages.js';
import type { CentralStore, MemberSummary } from '../../store/centralStore.js';
import { badRequest, conflict, forbidden, HttpError, notFound } from '../http.js';
import { parseBody, parseQuery } from '../query.js';
import { only, type AuthorizedRequest, type ProtectedRoute } from '../route.js';
import type { RouteDeps } from './deps.js';
import { checkpointInScope, outOfScope, visibleCheckpointCodes } from './scope.js';

/**
 * The guard screen's API (issue 14 point 9): the scans waiting at manual-confirm lanes,
 * with the person as the caller may see them (broker/access/memberView.ts); a guard's,
 * manager's or admin's confirm / reject, sent to the terminal as a command that resolves
 * that very scan; and a remote open with a typed reason. Guards of the checkpoint, the
 * manager of its unit and admins; never inspectors. Every answer is in the audit log, and
 * the terminal records the event with who answered (`answeredBy`).
 */

const access = only('admin', 'manager', 'guard');
const bodyLimit = 4 * 1024;

const pendingQuerySchema = z.strictObject({ checkpoint: checkpointCodeSchema.optional() });
export const pendingIdSchema = z.uuid({ message: 'expected the pending scan id (a UUID)' });
const noBody = z.strictObject({});
const openSchema = z.strictObject({
  reason: z
    .string()
    .transform((value) => value.normalize('NFC').replace(/\s+/g, ' ').trim())
    .pipe(z.string().min(1, { message: 'say why the gate is opened' }).max(maxNoteLength, { message: `is longer than ${maxNoteLength} characters` })),
  terminal: z.string().min(1).max(64).optional(),
  lane: z.string().min(1).max(32).optional(),
});

/**
 * A scan as the guard screen shows it: the person as far as the caller may see them, and
 * `photo`: true when GET /api/pending/{id}/photo has a face for this caller (the same rule as
 * that route: a registered person with a photo, whose name the caller may see), so the screen
 * asks for an image only then and never shows a broken one.
 */
async function withMembers(deps: Pick<RouteDeps, 'store' | 'registry' | 'commands'>, scans: readonly PendingScan[], principal: Principal) {
  const refs = scans.flatMap((scan) => (scan.credentialRef === null ? [] : [scan.credentialRef]));
  const members = refs.length === 0 ? new Map<string, MemberSummary>() : await deps.store.membersByRefs(refs);
  return Promise.all(scans.map(async (scan) => {
    const member = scan.credentialRef === null ? undefined : members.get(scan.credentialRef);
    const view = member === undefined ? null : memberViewFor(principal, member);
    const photo = scan.credentialRef !== null && view !== null && !('otherUnit' in view) && (await credentialHasPhoto(deps.registry, Buffer.from(scan.credentialRef, 'hex')));
    // false: an answer cannot reach the terminal now; the person is answered at the gate.
    const terminalOnline = deps.commands?.reachable(scan.terminalId) ?? false;
    return { ...scan, terminalOnline, member: view, photo };
  }));
}

async function sendCommand(commands: TerminalCommands | undefined, target: { checkpointCode: string; terminalId: string }, name: CommandName, fields: CommandFields) {
  try {
    if (!commands) throw new NoBrokerError();
    return await commands.send(target, name, fields);
  } catch (err) {
    if (err instanceof NoBrokerError || err instanceof TerminalOfflineError) throw new HttpError(503, 'unavailable', err.message);
    throw new HttpError(503, 'unavailable', 'the command could not be handed to the MQTT broker; try again');
  }
}

export async function requireSees(store: CentralStore, principal: Principal, code: string): Promise<void> {
  const checkpoint = await store.getCheckpoint(code);
  // A pending scan from a checkpoint since removed from the registry: only an admin sees it.
  if (checkpoint === null ? principal.role !== 'admin' : !seesCheckpoint(principal, checkpoint)) throw forbidden(outOfScope(principal, code));
}

function answerRoute(deps: Pick<RouteDeps, 'store' | 'pending' | 'commands' | 'logger'>, action: 'confirm' | 'reject'): ProtectedRoute {
  const decision = action === 'confirm' ? 'granted' : 'refused';
  return {
    method: 'POST',
    path: `/api/pending/{id}/${action}`,
    access,
    bodyLimit,
    async handle(request: AuthorizedRequest) {
      const { principal, params, body } = request;
      parseBody(body, noBody);
      const id = pendingIdSchema.safeParse(params.id);
      if (!id.success) throw badRequest(`id: ${id.error.issues[0]?.message ?? 'invalid'}`);
      const claim = deps.pending?.find(id.data) ?? { ok: false as const, why: 'unknown' as const };
      if (!claim.ok && claim.why === 'unknown') throw notFound(`no scan ${id.data} is pending at any terminal this central hears from`);
      await requireSees(deps.store, principal, claim.ok ? claim.scan.checkpointCode : claim.checkpointCode);
      if (!claim.ok) {
        const { outcome } = claim;
        const who = outcome.answeredBy === null ? 'at the gate' : `by ${outcome.answeredBy}`;
        throw conflict(`scan ${id.data} is no longer pending: ${outcome.reason === 'timeout' ? 'it timed out' : `${outcome.reason} ${who}`}`);
      }
      const { scan } = claim;
      const by = actorOf(principal);
      const sent = await sendCommand(deps.commands, scan, action, { pendingId: scan.id, lane: scan.lane, by });
      deps.pending!.answered(scan, decision, by);
      request.audit({ action: `pending.${action}`, target: scan.id, details: { checkpointCode: scan.checkpointCode, terminalId: scan.terminalId, lane: scan.lane } });
      deps.logger.info({ action, pendingId: scan.id, terminalId: scan.terminalId, actor: by, commandId: sent.id }, 'guard.answered');
      return { status: 202, json: { id: scan.id, decision, answeredBy: by, terminalId: scan.terminalId, commandId: sent.id } };
    },
  };
}

export function pendingRoutes(deps: Pick<RouteDeps, 'store' | 'registry' | 'pending' | 'commands' | 'logger' | 'now'>): ProtectedRoute[] {
  return [
    {
      path: '/api/pending',
      readsQuery: true,
      access,
      async handle({ principal, query }) {
        const { checkpoint } = parseQuery(query, pendingQuerySchema);
        const visible = await visibleCheckpointCodes(deps.store, principal);
        if (visible !== undefined && checkpoint !== undefined && !visible.includes(checkpoint)) throw forbidden(outOfScope(principal, checkpoint));
        const codes = checkpoint !== undefined ? [checkpoint] : visible;
        const scans = deps.pending?.list(codes) ?? [];
        // The countdown runs on the central's clock: the screen need not trust its own.
        return { status: 200, json: { now: new Date(deps.now()).toISOString(), pending: await withMembers(deps, scans, principal) }, headers: { 'cache-control': 'no-store' } };
      },
    },
    answerRoute(deps, 'confirm'),
    answerRoute(deps, 'reject'),
    {
      method: 'POST',
      path: '/api/checkpoints/{code}/open',
      access,
      bodyLimit,
      async handle(request) {
        const { principal, params, body } = request;
        const input = parseBody(body, openSchema);
        const checkpoint = await checkpointInScope(deps.store, principal, parseCheckpointCode(params.code ?? ''));
        const here = (await deps.store.fleet()).filter((t) => t.checkpointCode === checkpoint.code && !t.removed);
        const terminal = input.terminal === undefined ? here : here.filter((t) => t.terminalId === input.terminal);
        if (terminal.length === 0) {
          throw input.terminal === undefined ? conflict(`checkpoint ${checkpoint.code} has no terminal to open`) : notFound(`terminal ${input.terminal} is not at checkpoint ${checkpoint.code}`);
        }
        if (terminal.length > 1) throw badRequest(`terminal: checkpoint ${checkpoint.code} has ${terminal.length} terminals; name the one to open`);
        const target = terminal[0]!;
        const by = actorOf(principal);
        const sent = await sendCommand(deps.commands, target, 'open', { by, reason: input.reason, ...(input.lane === undefined ? {} : { lane: input.lane }) });
        request.audit({ action: 'checkpoint.open', target: checkpoint.code, details: { terminalId: target.terminalId, lane: input.lane ?? null, reason: input.reason } });
        deps.logger.info({ action: 'open', checkpoint: checkpoint.code, terminalId: target.terminalId, actor: by, commandId: sent.id }, 'guard.remote-open');
        return { status: 202, json: { checkpoint: checkpoint.code, terminalId: target.terminalId, commandId: sent.id, answeredBy: by } };
      },
    },
  ];
}
