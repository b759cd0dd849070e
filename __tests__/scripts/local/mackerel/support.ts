/**
 * Shared set-up of the local Mackerel server suites: a server on a manual clock with one host, and
 * fetch helpers that send what a client would (key, Content-Type, JSON) or exactly what a test says.
 */
import { LocalMackerelServer, type LocalMackerelServerOptions } from "../../../../scripts/local/mackerel";
import { ManualClock } from "../../../../scripts/testing";

export const KEY = "test-api-key";
export const READ_ONLY_KEY = "read-only-key";
/** 2023-11-14T22:13:20Z, a whole second. */
export const START_MS = 1_700_000_000_000;
export const T = START_MS / 1000;
export const HOUR = 3600;

interface CallOptions {
  /** API key; null sends none. */
  key?: string | null;
  /** Content-Type; null sends none. */
  contentType?: string | null;
  /** A body sent verbatim instead of JSON.stringify(body). */
  raw?: string;
  timeoutMs?: number;
}

export interface Reply {
  status: number;
  body: unknown;
  headers: Headers;
}

export async function call(
  server: LocalMackerelServer,
  method: string,
  path: string,
  body?: unknown,
  options: CallOptions = {},
): Promise<Reply> {
  const headers: Record<string, string> = {};
  const key = options.key === undefined ? KEY : options.key;
  if (key !== null) headers["X-Api-Key"] = key;
  const payload = options.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const contentType = options.contentType === undefined ? "application/json" : options.contentType;
  if (payload !== undefined && contentType !== null) headers["Content-Type"] = contentType;
  const response = await fetch(new URL(path, server.url), {
    method,
    headers,
    body: payload,
    signal: options.timeoutMs === undefined ? undefined : AbortSignal.timeout(options.timeoutMs),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? undefined : JSON.parse(text), headers: response.headers };
}

export const post = (server: LocalMackerelServer, path: string, body: unknown, options?: CallOptions) =>
  call(server, "POST", path, body, options);
export const get = (server: LocalMackerelServer, path: string, options?: CallOptions) =>
  call(server, "GET", path, undefined, options);

export function errorMessage(reply: Reply): string {
  const message = (reply.body as { error?: { message?: unknown } } | undefined)?.error?.message;
  if (typeof message !== "string") throw new Error(`no error message in ${JSON.stringify(reply.body)}`);
  return message;
}

export function report(hostId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    source: { type: "host", hostId },
    name: "my-check",
    status: "CRITICAL",
    message: "boom",
    occurredAt: T,
    ...overrides,
  };
}

export const SERVICE_TSDB = "api/v0/services/my-service/tsdb";

/** The custom identifier of the host every suite starts with. */
export const HOST_IDENTIFIER = "mackerel-serverless/test";
/** A read (GET) that finds that host. */
export const HOST_LOOKUP = `api/v0/hosts-by-custom-identifier/${encodeURIComponent(HOST_IDENTIFIER)}`;

// The server of the running test. ES module bindings are live: a suite imports `server`, `clock` and
// `hostId` and reads the current ones; only the hooks below and `restart` assign them.
export let clock: ManualClock;
export let server: LocalMackerelServer;
export let hostId: string;

/** Registers the hooks: each test gets a server at START_MS accepting KEY and READ_ONLY_KEY, with one host. */
export function useServer(): void {
  beforeEach(async () => {
    clock = new ManualClock(START_MS);
    await start();
  });
  afterEach(() => server.close());
}

/** Replaces the test's server by one with `options` (same clock). */
export async function restart(options: LocalMackerelServerOptions = {}): Promise<void> {
  await server.close();
  await start(options);
}

async function start(options: LocalMackerelServerOptions = {}): Promise<void> {
  server = await LocalMackerelServer.start({ now: clock.now, readOnlyKeys: [READ_ONLY_KEY], ...options });
  hostId = server.addHost({ name: "pipeline", customIdentifier: HOST_IDENTIFIER });
}
