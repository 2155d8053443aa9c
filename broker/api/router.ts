import { badRequest, type ApiResponse } from './http.js';

export interface RouteRequest {
  /** Path parameters, percent-decoded: `{code}` in the pattern -> `params.code`. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
}

/** One GET endpoint (HEAD is answered too). */
export interface Route {
  /** Like `/api/checkpoints/{code}/stats`; a `{name}` segment matches any one segment. */
  readonly path: string;
  handle(request: RouteRequest): Promise<ApiResponse>;
}

export interface RouteMatch {
  readonly route: Route;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Matches a URL path against the routes segment by segment. Segments are decoded one by
 * one, so an encoded `/` (%2F) stays inside its segment and cannot reach another route.
 */
export class Router {
  private readonly patterns: readonly { route: Route; segments: readonly string[] }[];

  constructor(routes: readonly Route[]) {
    this.patterns = routes.map((route) => ({ route, segments: route.path.split('/') }));
  }

  /** Null when no route has this path. Throws a 400 HttpError for malformed percent-encoding. */
  match(pathname: string): RouteMatch | null {
    const segments = pathname.split('/').map(decodeSegment);
    for (const { route, segments: pattern } of this.patterns) {
      if (pattern.length !== segments.length) continue;
      const params: Record<string, string> = {};
      const matches = pattern.every((part, i) => {
        const segment = segments[i]!;
        if (part.startsWith('{') && part.endsWith('}')) {
          params[part.slice(1, -1)] = segment;
          return true;
        }
        return part === segment;
      });
      if (matches) return { route, params };
    }
    return null;
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw badRequest('path: malformed percent-encoding');
  }
}
