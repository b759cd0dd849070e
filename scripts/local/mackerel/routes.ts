/**
 * The endpoints the functions call (functions/shared/mackerel-client.ts), plus host retirement, which
 * tests use to retire the module's host under it, and how a request reaches one: authentication first
 * (as an API gateway would), then the route, write permission, and the body's format.
 */
import type { IncomingHttpHeaders } from "node:http";
import { parseCheckReports, parseHostMetrics, parseHostRegistration, parseServiceMetrics } from "./bodies.js";
import type { MackerelModel } from "./model.js";
import { bad, HttpError, requireObject, show } from "./rules.js";

/** What the key of a request may do. */
export type Access = "read-write" | "read-only" | "none";

/** One request, as the server read it. */
export interface ApiRequest {
  method: string;
  /** Raw path (percent-encoding kept), without the query string. */
  path: string;
  headers: IncomingHttpHeaders;
  access: Access;
  /** The key was absent or empty. */
  keyMissing: boolean;
  /** The parsed JSON body, if there was one. */
  body: unknown;
  /** Why the body could not be parsed. */
  bodyError?: string;
  /** The body was over the size limit (and not read). */
  tooLarge: boolean;
}

interface Route {
  method: string;
  pattern: string[];
  write: boolean;
  handle: (params: string[], body: unknown) => unknown;
}

/** The route table over `model`. */
export function apiRoutes(model: MackerelModel): Route[] {
  const r = (method: string, pattern: string, write: boolean, handle: Route["handle"]): Route => ({
    method,
    pattern: pattern.split("/").filter(Boolean),
    write,
    handle,
  });
  return [
    r("POST", "api/v0/services/:/tsdb", true, ([service], body) =>
      model.acceptServiceMetrics(service!, parseServiceMetrics(body, model.metricWindow)),
    ),
    r("POST", "api/v0/tsdb", true, (_, body) => model.acceptHostMetrics(parseHostMetrics(body, model.metricWindow))),
    r("POST", "api/v0/monitoring/checks/report", true, (_, body) => model.acceptCheckReports(parseCheckReports(body))),
    r("GET", "api/v0/hosts-by-custom-identifier/:", false, ([id]) => model.hostByCustomIdentifier(id!)),
    r("POST", "api/v0/hosts", true, (_, body) => model.registerHost(parseHostRegistration(body))),
    r("POST", "api/v0/hosts/:/retire", true, ([hostId], body) => {
      requireObject(body, "body");
      return model.retireHost(hostId!);
    }),
  ];
}

/**
 * Answers one request from `routes`: the JSON body of a 200, or an {@link HttpError} (403 for a key
 * problem, 404/405 for the path, 413/400 for the body, then whatever the handler refuses).
 */
export function dispatch(routes: Route[], request: ApiRequest, authFailureStatus: number): unknown {
  const { method, path } = request;
  if (request.keyMissing) throw new HttpError(authFailureStatus, "API key is missing (X-Api-Key header)");
  if (request.access === "none") throw new HttpError(authFailureStatus, "Authentication failed: invalid API key");

  const segments = splitPath(path);
  let pathMatched = false;
  let match: { route: Route; params: string[] } | undefined;
  for (const route of routes) {
    const params = matchPattern(route.pattern, segments);
    if (!params) continue;
    pathMatched = true;
    if (route.method === method) {
      match = { route, params };
      break;
    }
  }
  if (!match) {
    if (pathMatched) throw new HttpError(405, `Method not allowed: ${method} ${path}`);
    throw new HttpError(404, `Not found: ${method} ${path}`);
  }
  const { route, params } = match;

  if (route.write && request.access !== "read-write") {
    throw new HttpError(403, "This API key does not have write permission");
  }
  if (method === "POST") {
    if (request.tooLarge) throw new HttpError(413, "The request body is too large");
    const contentType = headerValue(request.headers["content-type"]);
    const mediaType = contentType?.split(";")[0]?.trim().toLowerCase();
    if (mediaType !== "application/json") {
      throw bad(`Content-Type must be application/json (got ${show(contentType)})`);
    }
    if (request.bodyError) throw bad(request.bodyError);
    if (request.body === undefined) throw bad("the request body must be JSON");
  }
  return route.handle(params, request.body);
}

/** The first value of a header. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Splits a raw path into decoded segments; a malformed escape answers 400. */
function splitPath(path: string): string[] {
  return path
    .split("/")
    .slice(1)
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        throw bad(`malformed percent-encoding in the path: ${show(segment)}`);
      }
    });
}

/** Matches decoded segments against a pattern where `:` is a parameter; returns the parameters. */
function matchPattern(pattern: string[], segments: string[]): string[] | undefined {
  if (pattern.length !== segments.length) return undefined;
  const params: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    const expected = pattern[i]!;
    const actual = segments[i]!;
    if (expected === ":") {
      if (actual === "") return undefined;
      params.push(actual);
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}
