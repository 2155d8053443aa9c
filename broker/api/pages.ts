import type { ApiResponse, HttpError } from './http.js';
import type { Route } from './route.js';
import type { RouteDeps } from './routes/deps.js';

/** What the server knows of a request whose page failed, to answer it in the visitor's words. */
export interface FailedPageRequest {
  /** The path and query asked for: where to come back to after logging in. */
  readonly url: string;
  readonly query: URLSearchParams;
  readonly cookies: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * Pages for people, served beside the API on the same routes machinery (authentication,
 * roles, CSRF, rate limits) by whoever starts the central: the console (console/) plugs in
 * here, so broker/ never imports it. A page route's failure is answered for a person (a
 * missing session sends the browser to the login page; a refusal is a page in their
 * language), not as the API's JSON.
 */
export interface Pages {
  routes(deps: RouteDeps): Route[];
  renderError(error: HttpError, request: FailedPageRequest): ApiResponse;
}
