/**
 * MQTT topic names (DESIGN.md "MQTT"). Every id placed in a topic has passed
 * `terminalIdSchema` / `checkpointCodeSchema` / `listScopeSchema`, so none can carry `+`,
 * `#`, `/` or NUL into a topic.
 */

export const topicRoot = 'qrgate/v1';

/** Longest topic we ever use has 8 levels (`qrgate/v1/cp/C/t/T/cmd/name`); the broker refuses deeper. */
export const maxTopicLevels = 8;

/**
 * `pending`: manual-confirm scans waiting at a lane, and their resolutions (protocol/messages.ts pendingMessageSchema).
 * `cmd-acks`: what the terminal did with each command (commandAckSchema).
 */
export type TerminalLeaf = 'events' | 'status' | 'telemetry' | 'pending' | 'cmd-acks';

/** What a terminal publishes under its own prefix: its publish grants (broker/auth/aclGrants.ts) are these. */
export const terminalLeaves: readonly string[] = ['events', 'status', 'telemetry', 'pending', 'cmd-acks'] satisfies TerminalLeaf[];
const isTerminalLeaf = (leaf: string | undefined): leaf is TerminalLeaf => leaf !== undefined && terminalLeaves.includes(leaf);

export function terminalPrefix(checkpointCode: string, terminalId: string): string {
  return `${topicRoot}/cp/${checkpointCode}/t/${terminalId}/`;
}

export function terminalTopic(checkpointCode: string, terminalId: string, leaf: TerminalLeaf): string {
  return `${terminalPrefix(checkpointCode, terminalId)}${leaf}`;
}

export function commandTopic(checkpointCode: string, terminalId: string, name: string): string {
  return `${terminalPrefix(checkpointCode, terminalId)}cmd/${name}`;
}

/**
 * `…/receipts`, central -> terminal, QoS 1, never retained: what the central's store now
 * holds of the terminal's events (protocol/messages.ts receiptSchema). Not a TerminalLeaf:
 * a terminal may only subscribe here, never publish (broker/auth/acl.ts).
 */
export function receiptsTopic(checkpointCode: string, terminalId: string): string {
  return `${terminalPrefix(checkpointCode, terminalId)}receipts`;
}

/** What a terminal subscribes to for its commands. */
export function commandFilter(checkpointCode: string, terminalId: string): string {
  return `${terminalPrefix(checkpointCode, terminalId)}cmd/#`;
}

export function listTopicPrefix(scope: string): string {
  return `${topicRoot}/lists/${scope}/`;
}

/** Retained, signed manifest of a scope's current list (protocol/lists/manifest.ts). */
export function listManifestTopic(scope: string): string {
  return `${listTopicPrefix(scope)}manifest`;
}

/** Retained chunk `index` (from 0) of a list file named in the manifest (`s7`, `d6-7`). */
export function listChunkTopic(scope: string, fileName: string, index: number): string {
  return `${listTopicPrefix(scope)}files/${fileName}/${index}`;
}

/** Enrollment (protocol/enrollment.ts): a device's request, under its own client id. */
export function enrollRequestTopic(clientId: string): string {
  return `${topicRoot}/enroll/${clientId}/request`;
}

/** The central's answer to that device, never retained. */
export function enrollResultTopic(clientId: string): string {
  return `${topicRoot}/enroll/${clientId}/result`;
}

export type ParsedTopic =
  | { readonly kind: TerminalLeaf; readonly checkpointCode: string; readonly terminalId: string }
  | { readonly kind: 'cmd'; readonly checkpointCode: string; readonly terminalId: string; readonly command: string }
  | { readonly kind: 'list'; readonly scope: string; readonly rest: string };

/** Reads a concrete topic (no wildcards); null for anything outside the qrgate tree. */
export function parseTopic(topic: string): ParsedTopic | null {
  const levels = topic.split('/');
  if (levels[0] !== 'qrgate' || levels[1] !== 'v1') return null;
  if (levels[2] === 'cp' && levels[4] === 't' && levels.length >= 7) {
    const checkpointCode = levels[3]!;
    const terminalId = levels[5]!;
    if (!checkpointCode || !terminalId) return null;
    const leaf = levels[6];
    if (levels.length === 7 && isTerminalLeaf(leaf)) {
      return { kind: leaf, checkpointCode, terminalId };
    }
    if (levels.length === 8 && leaf === 'cmd' && levels[7]) return { kind: 'cmd', checkpointCode, terminalId, command: levels[7] };
    return null;
  }
  if (levels[2] === 'lists' && levels.length >= 5 && levels[3]) return { kind: 'list', scope: levels[3], rest: levels.slice(4).join('/') };
  return null;
}
