import type { FastifyReply } from 'fastify';
import type { ApiResponse } from './http.js';

/**
 * Writes an ApiResponse. Every answer is `no-store`: counts, fleet state and personal data
 * change by the second and must not sit in a shared cache. Cookies are always HttpOnly and
 * SameSite=Strict, and Secure when the central is reached over TLS.
 */
export function sendResponse(reply: FastifyReply, response: ApiResponse, secureCookies: boolean): FastifyReply {
  // The client may have gone already; nothing to tell it then.
  if (reply.sent || reply.raw.destroyed) return reply;
  reply.code(response.status);
  for (const [name, value] of Object.entries(response.headers ?? {})) reply.header(name, value);
  reply.header('cache-control', 'no-store');
  for (const change of response.cookies ?? []) {
    const options = { path: '/', httpOnly: true, sameSite: 'strict', secure: secureCookies } as const;
    if (change.value === null) reply.clearCookie(change.name, options);
    else reply.setCookie(change.name, change.value, { ...options, ...(change.maxAgeS === undefined ? {} : { maxAge: change.maxAgeS }) });
  }
  if ('json' in response) return reply.type('application/json; charset=utf-8').send(`${JSON.stringify(response.json)}\n`);
  if ('text' in response) return reply.type(response.contentType).send(response.text);
  if (reply.request.method === 'HEAD') {
    // The headers are the whole answer: an export is not painted and a live feed not held open for nobody to read.
    if (!Buffer.isBuffer(response.stream)) response.stream.destroy();
    return reply.type(response.contentType).send();
  }
  return reply.type(response.contentType).send(response.stream);
}
