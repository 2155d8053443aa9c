import type { Readable } from 'node:stream';

/** A cookie the answer sets or clears (value null). Options beyond these are fixed by the server (HttpOnly, SameSite=Strict, Secure over TLS). */
export interface CookieChange {
  readonly name: string;
  readonly value: string | null;
  /** Seconds; absent: a browser-session cookie. */
  readonly maxAgeS?: number;
}

interface ResponseBase {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly cookies?: readonly CookieChange[];
}

/** What a route answers; the server writes it. JSON unless a route says otherwise (/metrics, PDFs, CSV). */
export type ApiResponse =
  | (ResponseBase & { readonly json: unknown })
  | (ResponseBase & { readonly text: string; readonly contentType: string })
  /** Streamed (a PDF of 100k cards, a CSV export): never held in memory whole. */
  | (ResponseBase & { readonly stream: Readable | Buffer; readonly contentType: string });

export type ApiErrorCode =
  | 'bad-request'
  | 'unauthorized'
  | 'forbidden'
  | 'not-found'
  | 'method-not-allowed'
  | 'conflict'
  | 'payload-too-large'
  | 'uri-too-long'
  | 'unsupported-media-type'
  | 'rate-limited'
  | 'unavailable'
  | 'internal';

/** Every error body is `{error, reason}`: `error` for programs, `reason` for the person reading it. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: ApiErrorCode,
    readonly reason: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(reason);
    this.name = 'HttpError';
  }

  toResponse(): ApiResponse {
    return { status: this.status, json: { error: this.code, reason: this.reason }, headers: this.headers };
  }
}

export const badRequest = (reason: string): HttpError => new HttpError(400, 'bad-request', reason);
export const notFound = (reason: string): HttpError => new HttpError(404, 'not-found', reason);
export const forbidden = (reason: string): HttpError => new HttpError(403, 'forbidden', reason);
export const conflict = (reason: string): HttpError => new HttpError(409, 'conflict', reason);
