import type { ServerResponse } from 'node:http';

/** What a route answers; the server writes it. JSON unless a route says otherwise (only /metrics does). */
export type ApiResponse =
  | { readonly status: number; readonly json: unknown; readonly headers?: Readonly<Record<string, string>> }
  | { readonly status: number; readonly text: string; readonly contentType: string };

export type ApiErrorCode = 'bad-request' | 'not-found' | 'method-not-allowed' | 'uri-too-long' | 'unavailable' | 'internal';

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

export function writeResponse(res: ServerResponse, response: ApiResponse): void {
  const [body, contentType] = 'json' in response ? [`${JSON.stringify(response.json)}\n`, 'application/json; charset=utf-8'] : [response.text, response.contentType];
  res.writeHead(response.status, {
    ...('headers' in response ? response.headers : {}),
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    // Counts and fleet state change by the second; never serve them from a cache.
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  // Node leaves the body out of a HEAD response by itself.
  res.end(body);
}
