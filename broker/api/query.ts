import { z } from 'zod';
import { badRequest } from './http.js';

/**
 * Query strings are validated like every other input (STYLE.md habit 6): a zod schema per
 * route, and a 400 whose reason names the parameter and the problem, `limit: expected …`.
 */

/** For routes that take no parameters: any parameter is refused rather than ignored. */
export const noParameters = z.strictObject({});

export function parseQuery<S extends z.ZodType>(query: URLSearchParams, schema: S): z.output<S> {
  const raw: Record<string, string> = {};
  for (const [key, value] of query) {
    // A repeated parameter is ambiguous (which limit?); say so instead of picking one.
    if (Object.hasOwn(raw, key)) throw badRequest(`${printable(key)}: given more than once`);
    raw[key] = value;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw badRequest(zodReason(parsed.error));
  return parsed.data;
}

/** `param: problem` for each issue, joined with "; ". */
export function zodReason(error: z.ZodError, fallbackName = 'query'): string {
  return error.issues
    .flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => `${printable(key)}: unknown parameter`)
        : [`${issue.path.length > 0 ? issue.path.map(String).join('.') : fallbackName}: ${issue.message}`],
    )
    .join('; ');
}

/** Parameter names come from the client: quote odd ones and keep a pasted blob out of the reply. */
function printable(key: string): string {
  const short = key.length > 40 ? `${key.slice(0, 40)}…` : key;
  return /^[A-Za-z0-9_.-]+$/.test(short) ? short : JSON.stringify(short);
}

/** A request body checked like a query: a 400 naming each bad field (`name: …; role: …`). */
export function parseBody<S extends z.ZodType>(body: unknown, schema: S): z.output<S> {
  const parsed = schema.safeParse(body ?? {});
  if (!parsed.success) throw badRequest(zodReason(parsed.error, 'body'));
  return parsed.data;
}
