/** Shared set-up of the Mackerel client suites: the strict local server, a client, and the key checks. */
import { StaticApiKey } from "../../../functions/shared/api-key";
import { MackerelClient, type MackerelClientOptions } from "../../../functions/shared/mackerel-client";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";

export const KEY = "client-test-key-0123456789";
export const OLD_KEY = "rotating-old-key-0123456789";
export const NEW_KEY = "rotating-new-key-9876543210";
export const ALL_KEYS = [KEY, OLD_KEY, NEW_KEY];
export const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-AbCdEf";

// ES module bindings are live: suites import `server` and read the current one.
export let server: LocalMackerelServer;
export const consoleLines: string[] = [];
export const spies: jest.SpyInstance[] = [];

/** Registers the hooks: one server for the file (reset before each test), console captured and checked. */
export function useClientServer(): void {
  beforeAll(async () => {
    server = await LocalMackerelServer.start({ apiKeys: [KEY], services: ["orders"] });
    for (const level of ["debug", "info", "log", "warn", "error"] as const) {
      spies.push(
        jest.spyOn(console, level).mockImplementation((...args: unknown[]) => {
          consoleLines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
        }),
      );
    }
  });
  afterAll(async () => {
    for (const spy of spies) spy.mockRestore();
    await server.close();
  });
  beforeEach(() => server.reset());
  afterEach(() => {
    // Nothing the client or the code under it printed holds a key.
    for (const line of consoleLines) for (const key of ALL_KEYS) expect(line).not.toContain(key);
  });
}

export const now = () => Math.floor(Date.now() / 1000);

export function client(options: Partial<MackerelClientOptions> = {}): MackerelClient {
  return new MackerelClient({
    baseUrl: server.url,
    apiKey: new StaticApiKey(KEY),
    backoffBaseMs: 5,
    backoffCapMs: 20,
    timeoutMs: 2000,
    ...options,
  });
}

/** The error a promise rejects with; fails when it resolves. Checks that no key is anywhere in it. */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => {
      throw new Error("expected a failure");
    },
    (e: unknown) => e as Error,
  );
  expectNoKey(error);
  return error;
}

export function expectNoKey(error: unknown): void {
  const seen = new Set<unknown>();
  const texts: string[] = [];
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    texts.push(String(current), JSON.stringify(current, Object.getOwnPropertyNames(current)));
    current = (current as { cause?: unknown }).cause;
  }
  for (const text of texts) for (const key of ALL_KEYS) expect(text).not.toContain(key);
}

export const requestsTo = (path: string) => server.requests.filter((r) => r.path === path);
export const reportsPath = "/api/v0/monitoring/checks/report";
export const ordersPath = "/api/v0/services/orders/tsdb";
