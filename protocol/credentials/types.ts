/**
 * What a scanned or typed credential becomes (DESIGN.md "Credentials"). Only `namespace`
 * and `id` feed the credential ref; `type` says which format was read, for events.
 */

export const credentialNamespaces = ['card', 'citizen', 'app'] as const;
export type CredentialNamespace = (typeof credentialNamespaces)[number];

export type CredentialType = 'card' | 'cccd' | 'pccovid' | 'typed';

export interface Credential {
  readonly type: CredentialType;
  readonly namespace: CredentialNamespace;
  /** Normalised identifier. Secret: never log it, store it or send it anywhere. */
  readonly id: string;
}

/** One reason today; a union so a new kind of refusal is a compile error where it matters. */
export type RefusalReason = 'malformed';

/**
 * `detail` is logged, so it describes the shape of the input (field counts, lengths) and
 * never contains the input or any part of an ID.
 */
export type ParseResult =
  | { readonly ok: true; readonly credential: Credential }
  | { readonly ok: false; readonly reason: RefusalReason; readonly detail: string };

export function refuse(detail: string): ParseResult {
  return { ok: false, reason: 'malformed', detail };
}

export function accept(type: CredentialType, namespace: CredentialNamespace, id: string): ParseResult {
  return { ok: true, credential: { type, namespace, id } };
}
