/**
 * Redaction of HTTP body excerpts end to end: the BUILT check function (modules/mackerel-serverless/dist/
 * check.zip) checks a local HTTP server that answers 500 with a body holding one case of the generated secret
 * corpus (as text, JSON, a multi-line body, and after `<html>` and 1,184 spaces, the whitespace that once let
 * an excerpt be cut before it was redacted). Nothing posted to the local Mackerel server, nothing the
 * function logged, and nothing in an error it threw may contain an 8-character piece of a secret.
 *
 * Also: Mackerel refusing a report with a message and with a raw (non-JSON) body that both echo a secret —
 * the thrown error keeps the status and a redacted, bounded message, never the raw body.
 */
import type { Server } from "node:http";
import { LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";
import { forms, secretCorpus, survivingPieces } from "../../support/secret-corpus";
import { checkZipEnv, SECRET_ARN, SERVICE, startWebServer } from "./zip-support";

const KEY = "redaction-zip-key-0123456789";

const corpus = secretCorpus(7);
const bodies = corpus.flatMap((c) => [
  ...forms(c, "[case]").map(({ form, text }) => ({ case: c, form, body: text })),
  { case: c, form: "padded", body: `<html>${" ".repeat(1184)}${c.context}</html>` },
]);

let mackerel: LocalMackerelServer;
let aws: LocalAwsJsonServer;
let web: Server;
let webUrl: string;
let check: LocalLambda;
const errors: string[] = [];

beforeAll(async () => {
  mackerel = await LocalMackerelServer.start({ apiKeys: [KEY], services: [SERVICE] });
  aws = await LocalAwsJsonServer.start(secretsManagerHandlers(new Map([[SECRET_ARN, KEY]])));
  ({ server: web, url: webUrl } = await startWebServer((req, res) => {
    const index = Number(/^\/case\/(\d+)$/.exec(req.url ?? "")?.[1] ?? -1);
    const entry = bodies[index];
    if (!entry) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(500, { "content-type": entry.form === "json" ? "application/json" : "text/html" }).end(entry.body);
  }));
  check = await LocalLambda.start("check", {
    timeoutMs: 30_000,
    env: checkZipEnv({ mackerelUrl: mackerel.url, secretsManagerUrl: aws.url, hostName: "redaction-zip-test" }),
  });
  for (const [index] of bodies.entries()) {
    const outcome = await check.invoke({
      check: { kind: "http", name: `leak-${index}`, url: `${webUrl}/case/${index}`, expected_status: [200] },
    });
    if (!outcome.ok) errors.push(`${outcome.errorType}: ${outcome.errorMessage}`);
  }
}, 180_000);

afterAll(async () => {
  await check.stop();
  await new Promise((resolve) => web.close(resolve));
  await mackerel.close();
  await aws.close();
});

test(`${corpus.length} kinds of secrets × 4 body forms: each a CRITICAL report with a redacted excerpt`, () => {
  expect(corpus.length).toBeGreaterThanOrEqual(40);
  expect(errors).toEqual([]);
  const reports = new Map(mackerel.checkReports().map((r) => [r.name, r]));
  for (const [index, entry] of bodies.entries()) {
    const report = reports.get(`leak-${index}`);
    expect({ body: `${entry.case.id}/${entry.form}`, status: report?.status }).toEqual({
      body: `${entry.case.id}/${entry.form}`,
      status: "CRITICAL",
    });
    expect(report!.message).toMatch(/\nbody: .*\[REDACTED:[a-z0-9-]+\]/);
  }
});

test("the padded body: whitespace collapsed AFTER redaction, so the key id is masked, not cut", () => {
  const index = bodies.findIndex((b) => b.case.id === "aws-key-id" && b.form === "padded");
  const report = mackerel.checkReports().find((r) => r.name === `leak-${index}`)!;
  expect(report.message).toMatch(
    /\nbody: <html> assumed credentials \[REDACTED:aws-access-key-id\] for deploy<\/html>$/,
  );
});

test("no 8-character piece of any secret in anything posted to Mackerel or logged", () => {
  const posted = JSON.stringify(mackerel.requests.map((r) => r.body));
  const logged = check.logs.join("\n");
  expect(check.logs.length).toBeGreaterThan(0);
  const raw = bodies.map((b) => b.body).join("\n");
  for (const c of corpus) expect(survivingPieces(raw, c.parts).length).toBeGreaterThan(0);
  const leaks = corpus
    .map((c) => [c.id, survivingPieces(posted, c.parts), survivingPieces(logged, c.parts)] as const)
    .filter(([, p, l]) => p.length + l.length > 0);
  expect(leaks).toEqual([]);
});

describe("errors built from Mackerel's answers", () => {
  let proxy: Server;
  let proxyUrl: string;
  const ghp = `ghp_${"Zq9".repeat(12)}`;

  beforeAll(async () => {
    // A proxy in front of Mackerel that answers 400 with an HTML page echoing the request's secrets.
    const started = await startWebServer((_req, res) =>
      res.writeHead(400, { "content-type": "text/html" }).end(`<html>bad request token=${ghp} ${KEY}</html>`),
    );
    proxy = started.server;
    proxyUrl = `${started.url}/`;
  });
  afterAll(() => new Promise((resolve) => proxy.close(resolve)));

  test("Mackerel's JSON message is redacted and bounded; a raw body never reaches the error or the log", async () => {
    // 1. Mackerel's own JSON error message, echoing a secret: redacted in what the function logs.
    mackerel.injectFaults({
      mode: "status",
      status: 400,
      message: `invalid check report: message contains password=${"Pw".repeat(8)} and ${ghp}`,
      count: 1,
    });
    const before = check.logs.length;
    await check.invoke({
      check: { kind: "http", name: "leak-json-error", url: `${webUrl}/case/0`, expected_status: [200] },
    });
    const logged = check.logs.slice(before).join("\n");
    expect(logged).toContain("Mackerel refused");
    expect(logged).toContain("[REDACTED:github-token]");
    expect(logged).not.toContain("PwPwPwPw");
    expect(logged).not.toContain(ghp.slice(4, 12));

    // 2. A raw HTML body from a proxy: only the status is kept.
    const other = await LocalLambda.start("check", {
      timeoutMs: 30_000,
      env: {
        MACKEREL_API_KEY_SECRET_ARN: SECRET_ARN,
        MACKEREL_API_BASE_URL: proxyUrl,
        MACKEREL_SERVICE_NAME: SERVICE,
        MACKEREL_HOST_ID: "host-1",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      },
    });
    try {
      const outcome = await other.invoke({
        check: { kind: "http", name: "leak-raw-error", url: `${webUrl}/case/0`, expected_status: [200] },
      });
      const everything = `${JSON.stringify(outcome)}\n${other.logs.join("\n")}`;
      expect(everything).toMatch(/answered 400/);
      expect(everything).not.toContain("<html>bad request");
      expect(everything).not.toContain(ghp.slice(4, 12));
      expect(everything).not.toContain(KEY);
    } finally {
      await other.stop();
    }
  });
});
