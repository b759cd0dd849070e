/**
 * HTTP checks against real local servers (node:http, and node:https with a self-signed certificate
 * when openssl is here): right and wrong bodies, 500, slow past the timeout, connection refused,
 * redirects, a large body read only up to the bound, latency thresholds.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  classifyFetchError,
  evaluateHttp,
  MAX_BODY_BYTES,
  observeHttp,
  runHttpCheck,
} from "../../../functions/check/http";
import { parseCheckSpec, type HttpSpec } from "../../../functions/check/spec";
import { runContext } from "./support";

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const routes = new Map<string, Handler>();
const seen: { url: string; method: string; headers: IncomingMessage["headers"] }[] = [];
let server: Server;
let base: string;
let bytesSentOfLarge = 0;

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `127.0.0.1:${(s.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? "", method: req.method ?? "", headers: req.headers });
    const handler = routes.get((req.url ?? "").split("?")[0]!);
    if (handler) handler(req, res);
    else {
      res.writeHead(404);
      res.end("not found");
    }
  });
  base = `http://${await listen(server)}`;

  routes.set("/health", (_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end('{"status":"ok","db":"up"}');
  });
  routes.set("/degraded", (_req, res) => {
    res.writeHead(200);
    res.end('{"status":"degraded","detail":"db down, password=hunter2 user alice@example.com"}');
  });
  routes.set("/error", (_req, res) => {
    res.writeHead(500);
    res.end("Internal Server Error: token=abcdef123456");
  });
  routes.set("/slow", (_req, res) => {
    const timer = setTimeout(() => {
      res.writeHead(200);
      res.end("late");
    }, 3000);
    res.on("close", () => clearTimeout(timer));
  });
  routes.set("/slow-body", (_req, res) => {
    res.writeHead(200);
    res.write("start...");
    const timer = setTimeout(() => res.end("end"), 3000);
    res.on("close", () => clearTimeout(timer));
  });
  routes.set("/a-bit-slow", (_req, res) => {
    setTimeout(() => {
      res.writeHead(200);
      res.end("ok");
    }, 250);
  });
  routes.set("/moved", (_req, res) => {
    res.writeHead(302, { location: "/health" });
    res.end();
  });
  routes.set("/see-other", (_req, res) => {
    res.writeHead(303, { location: `${base}/health` });
    res.end();
  });
  routes.set("/loop", (_req, res) => {
    res.writeHead(301, { location: "/loop" });
    res.end();
  });
  routes.set("/hostile", (_req, res) => {
    // 1 MiB that almost matches the patterns below: a JSON array of near misses, then y's.
    res.writeHead(200, { "content-type": "application/json" });
    const items = JSON.stringify(Array.from({ length: 6000 }, (_, i) => ({ id: i, status: "okay", a: "aaaa" })));
    res.end((items + "y".repeat(1024 * 1024)).slice(0, 1024 * 1024));
  });
  routes.set("/large", (_req, res) => {
    // 8 MiB, the marker at the very end; written in chunks so an early close stops the transfer.
    res.writeHead(200, { "content-type": "text/plain" });
    const chunk = Buffer.alloc(64 * 1024, "a");
    let sent = 0;
    const total = 8 * 1024 * 1024;
    bytesSentOfLarge = 0;
    const pump = () => {
      while (sent < total) {
        const ok = res.write(chunk);
        sent += chunk.length;
        bytesSentOfLarge = sent;
        if (!ok) return void res.once("drain", pump);
      }
      res.end("MARKER");
    };
    res.on("close", () => (sent = total + 1));
    pump();
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
});

function http(overrides: Record<string, unknown>): HttpSpec {
  return parseCheckSpec({ kind: "http", name: "web", url: `${base}/health`, ...overrides }) as HttpSpec;
}

const run = (s: HttpSpec, budgetMs = 20_000) => runHttpCheck(s, runContext(budgetMs));

test("200 with the expected body: OK with latency and status metrics", async () => {
  const outcome = await run(
    http({ body_contains: '"status":"ok"', body_regex: '"db":\\s*"up"', headers: { "X-Probe": "mackerel" } }),
  );
  expect(outcome.status).toBe("OK");
  expect(outcome.message).toMatch(/^OK: GET http:\/\/127\.0\.0\.1:\d+\/health: status 200 in \d+ ms$/);
  expect(outcome.metrics.status_code).toBe(200);
  expect(outcome.metrics.latency_ms).toBeGreaterThanOrEqual(0);
  expect(seen[0]!.headers["x-probe"]).toBe("mackerel");
  expect(seen[0]!.headers["user-agent"]).toBe("mackerel-serverless-check");
});

test("the wrong body: CRITICAL with a redacted, cut excerpt", async () => {
  const outcome = await run(http({ url: `${base}/degraded`, body_contains: '"status":"ok"' }));
  expect(outcome.status).toBe("CRITICAL");
  expect(outcome.message).toMatch(/: status 200 in \d+ ms: body does not contain ""status":"ok""\n/);
  expect(outcome.message).toContain(
    'body: {"status":"degraded","detail":"db down, password=[REDACTED:password] user [REDACTED:email]"}',
  );
  expect(outcome.message).not.toContain("hunter2");
  const regex = await run(http({ url: `${base}/degraded`, body_regex: '"status":"ok"' }));
  expect(regex.message).toContain('body does not match /"status":"ok"/');
});

test("500: CRITICAL naming the status and the expected ones", async () => {
  const outcome = await run(http({ url: `${base}/error`, expected_status: [200, 204] }));
  expect(outcome.status).toBe("CRITICAL");
  expect(outcome.message).toMatch(
    /status 500 in \d+ ms: expected status 200 or 204\nbody: Internal Server Error: token=\[REDACTED:token\]/,
  );
  expect(outcome.metrics.status_code).toBe(500);
  // A 500 that is expected is fine.
  expect((await run(http({ url: `${base}/error`, expected_status: [500] }))).status).toBe("OK");
});

test("slow past timeout_seconds: CRITICAL timeout, within the timeout", async () => {
  const started = Date.now();
  const outcome = await run(http({ url: `${base}/slow`, timeout_seconds: 1 }));
  expect(Date.now() - started).toBeLessThan(2000);
  expect(outcome.status).toBe("CRITICAL");
  expect(outcome.message).toMatch(/: no complete response within 1s$/);
  expect(outcome.metrics).toEqual({ status_code: 0 });
  // The timeout covers the body too.
  const body = await run(http({ url: `${base}/slow-body`, timeout_seconds: 1 }));
  expect(body.message).toMatch(/no complete response within 1s/);
});

test("the timeout never outlasts the invocation's remaining time", async () => {
  const started = Date.now();
  const outcome = await run(http({ url: `${base}/slow`, timeout_seconds: 30 }), 800);
  expect(Date.now() - started).toBeLessThan(1500);
  expect(outcome.message).toMatch(/no complete response within 0s|no complete response within 1s/);
});

test("connection refused: CRITICAL could not connect", async () => {
  const closed = createServer();
  const address = await listen(closed);
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const outcome = await run(http({ url: `http://${address}/` }));
  expect(outcome.status).toBe("CRITICAL");
  expect(outcome.message).toMatch(/: could not connect: (connect )?ECONNREFUSED/);
  expect(outcome.metrics).toEqual({ status_code: 0 });
});

test("an unresolvable name: CRITICAL DNS lookup failed", async () => {
  const outcome = await run(http({ url: "http://does-not-exist.invalid/", timeout_seconds: 5 }));
  expect(outcome.status).toBe("CRITICAL");
  expect(outcome.message).toMatch(/DNS lookup failed: .*(ENOTFOUND|EAI_AGAIN)|no complete response within 5s/);
});

describe("redirects", () => {
  test("followed by default (the final response is checked)", async () => {
    const outcome = await run(http({ url: `${base}/moved`, body_contains: "ok" }));
    expect(outcome.status).toBe("OK");
    expect(outcome.message).toMatch(/\(after 1 redirect to http:\/\/127\.0\.0\.1:\d+\/health\): status 200/);
    expect(seen.map((s) => s.url)).toEqual(["/moved", "/health"]);
  });

  test("303 after POST continues as GET", async () => {
    await run(http({ url: `${base}/see-other`, method: "POST" }));
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(["POST /see-other", "GET /health"]);
  });

  test("not followed with follow_redirects = false: the 3xx is compared with expected_status", async () => {
    const outcome = await run(http({ url: `${base}/moved`, follow_redirects: false }));
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.message).toMatch(/status 302 in \d+ ms: expected status 200\nlocation: \/health$/);
    expect(
      (await run(http({ url: `${base}/moved`, follow_redirects: false, expected_status: [301, 302] }))).status,
    ).toBe("OK");
    expect(seen.every((s) => s.url === "/moved")).toBe(true);
  });

  test("a redirect loop fails after 5 redirects", async () => {
    const outcome = await run(http({ url: `${base}/loop` }));
    expect(outcome.status).toBe("CRITICAL");
    expect(outcome.message).toContain("redirect failed: more than 5 redirects");
    expect(seen).toHaveLength(6);
  });

  test("credentials are not sent to another origin", async () => {
    const other = createServer((req, res) => {
      seen.push({ url: `other${req.url}`, method: req.method ?? "", headers: req.headers });
      res.writeHead(200);
      res.end("ok");
    });
    const otherBase = `http://${await listen(other)}`;
    routes.set("/away", (_req, res) => {
      res.writeHead(307, { location: `${otherBase}/landing` });
      res.end();
    });
    try {
      await run(http({ url: `${base}/away`, headers: { Authorization: "Bearer s3cr3t-token", "X-Keep": "1" } }));
      expect(seen[0]!.headers.authorization).toBe("Bearer s3cr3t-token");
      expect(seen[1]!.url).toBe("other/landing");
      expect(seen[1]!.headers.authorization).toBeUndefined();
      expect(seen[1]!.headers["x-keep"]).toBe("1");
    } finally {
      other.closeAllConnections();
      await new Promise<void>((resolve) => other.close(() => resolve()));
    }
  });
});

test("a large body is read only up to 1 MiB, and the transfer is stopped", async () => {
  const observation = await observeHttp(http({ url: `${base}/large` }), runContext(20_000));
  expect(observation.ok).toBe(true);
  if (!observation.ok) return;
  expect(Buffer.byteLength(observation.body)).toBe(MAX_BODY_BYTES);
  expect(observation.bodyTruncated).toBe(true);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(bytesSentOfLarge).toBeLessThan(8 * 1024 * 1024);
  // The marker at the end was never seen: body checks say what they looked at.
  const outcome = evaluateHttp(http({ url: `${base}/large`, body_contains: "MARKER" }), observation);
  expect(outcome.status).toBe("CRITICAL");
  expect(outcome.message).toContain('body does not contain "MARKER" (checked the first 1 MiB)');
  expect(outcome.message.length).toBeLessThan(1024);
});

test.each([
  '.*"status":\\s*"ok".*',
  "(y+y+)+z",
  "(.*a){12}x",
  "(?i)(\\w+\\s?)+$!",
  "(?s)(.*\\{){20}Z",
  "[a-z]*a[a-z]{20}[0-9]",
])("body_regex %s on a hostile 1 MiB body is judged within timeout_seconds = 1", async (pattern) => {
  const started = performance.now();
  const outcome = await run(http({ url: `${base}/hostile`, body_regex: pattern, timeout_seconds: 1 }));
  const elapsed = performance.now() - started;
  expect(outcome.status).toBe("CRITICAL");
  expect(outcome.message).toContain("body does not match /");
  expect(elapsed).toBeLessThan(1_000);
});

test("HEAD reads no body", async () => {
  const outcome = await run(http({ method: "HEAD" }));
  expect(outcome.status).toBe("OK");
  expect(seen[0]!.method).toBe("HEAD");
});

test("latency thresholds: WARNING, then CRITICAL", async () => {
  const warning = await run(http({ url: `${base}/a-bit-slow`, warning_latency_ms: 100, critical_latency_ms: 5000 }));
  expect(warning.status).toBe("WARNING");
  expect(warning.message).toMatch(/status 200 in \d+ ms \(latency >= warning 100 ms\)/);
  expect(warning.message).toContain("latency thresholds (ms): warning >= 100, critical >= 5000");
  const critical = await run(http({ url: `${base}/a-bit-slow`, critical_latency_ms: 100 }));
  expect(critical.status).toBe("CRITICAL");
});

test("fetch failures are classified by their cause", () => {
  const failed = (code: string) =>
    Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(code), { code }) });
  expect(classifyFetchError(failed("ENOTFOUND")).failure).toBe("dns");
  expect(classifyFetchError(failed("ECONNREFUSED")).failure).toBe("connect");
  expect(classifyFetchError(failed("UND_ERR_CONNECT_TIMEOUT")).failure).toBe("connect");
  expect(classifyFetchError(failed("ECONNRESET")).failure).toBe("reset");
  expect(classifyFetchError(failed("CERT_HAS_EXPIRED")).failure).toBe("tls");
  expect(classifyFetchError(failed("ERR_TLS_CERT_ALTNAME_INVALID")).failure).toBe("tls");
  expect(classifyFetchError(new DOMException("t", "TimeoutError")).failure).toBe("timeout");
  const aggregate = Object.assign(new TypeError("fetch failed"), {
    cause: Object.assign(new AggregateError([Object.assign(new Error("x"), { code: "ECONNREFUSED" })]), {}),
  });
  expect(classifyFetchError(aggregate).failure).toBe("connect");
});

describe("TLS", () => {
  let dir: string | undefined;
  let reason: string | undefined;
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
  } catch {
    reason = "openssl is not on PATH (needed to make a self-signed certificate)";
  }
  if (reason) console.warn(`\n*** TLS TEST SKIPPED: ${reason}. It did NOT run. ***\n`);
  const testTls = reason ? test.skip : test;

  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  testTls("a self-signed certificate: CRITICAL TLS handshake failed", async () => {
    dir = mkdtempSync(join(tmpdir(), "tls-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    const tls = createHttpsServer(
      { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
      (_req, res) => {
        res.writeHead(200);
        res.end("ok");
      },
    );
    const address = await listen(tls as unknown as Server);
    try {
      const outcome = await run(http({ url: `https://${address}/` }));
      expect(outcome.status).toBe("CRITICAL");
      expect(outcome.message).toMatch(
        /TLS handshake failed: (DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_TLS_CERT_ALTNAME_INVALID)/,
      );
    } finally {
      tls.closeAllConnections();
      await new Promise<void>((resolve) => tls.close(() => resolve()));
    }
  });
});
