/**
 * HTTP checks with credentials from Secrets Manager (`headers_secret_arn`): the secret's shapes and the
 * rules broken (never a value in a message), and the BUILT check function reading the secret from the
 * local Secrets Manager and sending it to a local server that requires it — basic auth and headers, not
 * to another origin on a redirect, never in a log; a throttled or missing secret reports UNKNOWN naming
 * the secret.
 */
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseHeadersSecret } from "../../../functions/check/http-auth";
import { parseCheckSpec } from "../../../functions/check/spec";
import { ConfigurationError } from "../../../functions/shared/errors";
import { AwsServiceError, LocalAwsJsonServer, secretsManagerHandlers } from "../../../scripts/local/aws-json-server";
import { LocalLambda } from "../../../scripts/local/lambda-runner";
import { LocalMackerelServer } from "../../../scripts/local/mackerel";

const ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:web-auth-AbCdEf";

describe("parseHeadersSecret", () => {
  test("headers, basic auth, or both (names lower-cased)", () => {
    expect(parseHeadersSecret('{"headers": {"Authorization": "Bearer t0ken", "X-Api-Key": "k3y"}}', ARN)).toEqual({
      authorization: "Bearer t0ken",
      "x-api-key": "k3y",
    });
    expect(parseHeadersSecret('{"username": "monitor", "password": "p@ss:word"}', ARN)).toEqual({
      authorization: `Basic ${Buffer.from("monitor:p@ss:word").toString("base64")}`,
    });
    expect(parseHeadersSecret('{"username": "u", "password": "p", "headers": {"X-Tenant": "t1"}}', ARN)).toEqual({
      authorization: `Basic ${Buffer.from("u:p").toString("base64")}`,
      "x-tenant": "t1",
    });
  });

  test.each([
    [undefined, "is empty or binary"],
    ["s3cr3t", "is not JSON"],
    ['["s3cr3t"]', "is not a JSON object"],
    ['{"token": "s3cr3t"}', 'has unknown fields "token"'],
    ['{"headers": "s3cr3t"}', "field headers: expected an object"],
    ['{"headers": {"Bad Name": "s3cr3t"}}', '"Bad Name" is not a valid header name'],
    [
      '{"headers": {"X-Key": "s3cr3t\\r\\nX-Evil: 1"}}',
      "field headers.X-Key: expected a non-empty string of printable ASCII",
    ],
    ['{"headers": {"Host": "s3cr3t"}}', "Host is set by the check itself"],
    ['{"username": "u"}', "needs both username and password"],
    ['{"username": "a:b", "password": "s3cr3t"}', "field username: expected a non-empty string without ':'"],
    [
      '{"username": "u", "password": "s3cr3t", "headers": {"Authorization": "s3cr3t"}}',
      "sets both headers.Authorization",
    ],
    ["{}", "holds no headers and no username/password"],
  ])("%s → ConfigurationError naming the secret and the rule, never the value", (secret, rule) => {
    let error: unknown;
    try {
      parseHeadersSecret(secret, ARN);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain(`the headers secret ${ARN} `);
    expect((error as Error).message).toContain(rule);
    expect((error as Error).message).not.toContain("s3cr3t");
  });
});

describe("the check spec", () => {
  test("takes headers_secret_arn, refuses a URL with user info pointing to it", () => {
    expect(
      parseCheckSpec({ kind: "http", name: "web", url: "https://example.com/", headers_secret_arn: ARN }),
    ).toMatchObject({
      headersSecretArn: ARN,
    });
    expect(() => parseCheckSpec({ kind: "http", name: "web", url: "https://u:p@example.com/" })).toThrow(
      "check.url: must not hold user info (user:password@); put the credentials in a Secrets Manager secret",
    );
    expect(() =>
      parseCheckSpec({ kind: "http", name: "web", url: "https://example.com/", headers_secret_arn: "web-auth" }),
    ).toThrow("check.headers_secret_arn: must be a Secrets Manager secret ARN");
  });

  test("takes the secret's KMS key (for the role's policy; Secrets Manager decrypts), or null, and names a bad one", () => {
    const base = { kind: "http", name: "web", url: "https://example.com/", headers_secret_arn: ARN };
    const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    expect(parseCheckSpec({ ...base, headers_secret_kms_key_arn: key })).toMatchObject({ headersSecretArn: ARN });
    expect(parseCheckSpec({ ...base, headers_secret_kms_key_arn: null })).toMatchObject({ headersSecretArn: ARN });
    expect(() => parseCheckSpec({ ...base, headers_secret_kms_key_arn: "alias/web" })).toThrow(
      "check.headers_secret_kms_key_arn: must be a KMS key ARN",
    );
    expect(() =>
      parseCheckSpec({ kind: "http", name: "web", url: "https://example.com/", headers_secret_kms_key_arn: key }),
    ).toThrow("check.headers_secret_kms_key_arn: is set without headers_secret_arn");
  });
});

describe("the built check function with a headers secret", () => {
  const KEY = "http-auth-test-key-0123456789";
  const API_SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:mackerel-api-key-AbCdEf";
  const BASIC = "arn:aws:secretsmanager:us-east-1:123456789012:secret:basic-AbCdEf";
  const BEARER = "arn:aws:secretsmanager:us-east-1:123456789012:secret:bearer-AbCdEf";
  const THROTTLED = "arn:aws:secretsmanager:us-east-1:123456789012:secret:throttled-AbCdEf";
  const MISSING = "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf";
  const PASSWORD = "pw-Zq8-never-logged";
  const TOKEN = "tok-Xy7-never-logged";
  let mackerel: LocalMackerelServer;
  let aws: LocalAwsJsonServer;
  let web: Server;
  let other: Server;
  let webUrl: string;
  let otherUrl: string;
  let check: LocalLambda;
  const seen: { server: string; path: string; headers: IncomingHttpHeaders }[] = [];

  const listen = async (server: Server) => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    mackerel = await LocalMackerelServer.start({ apiKeys: [KEY], services: ["shop"] });
    const secrets = new Map([
      [API_SECRET, KEY],
      [BASIC, JSON.stringify({ username: "monitor", password: PASSWORD })],
      [BEARER, JSON.stringify({ headers: { Authorization: `Bearer ${TOKEN}`, "X-Tenant": "t1" } })],
    ]);
    const real = secretsManagerHandlers(secrets);
    aws = await LocalAwsJsonServer.start({
      "secretsmanager.GetSecretValue": (input) => {
        if (input.SecretId === THROTTLED) throw new AwsServiceError("ThrottlingException", "Rate exceeded", 400);
        return real["secretsmanager.GetSecretValue"]!(input);
      },
    });
    other = createServer((req, res) => {
      seen.push({ server: "other", path: req.url ?? "", headers: req.headers });
      res.writeHead(200);
      res.end("ok");
    });
    otherUrl = await listen(other);
    web = createServer((req, res) => {
      seen.push({ server: "web", path: req.url ?? "", headers: req.headers });
      const basic = `Basic ${Buffer.from(`monitor:${PASSWORD}`).toString("base64")}`;
      const authorized =
        (req.url === "/basic" && req.headers.authorization === basic) ||
        (req.url?.startsWith("/bearer") && req.headers.authorization === `Bearer ${TOKEN}`);
      if (!authorized) {
        res.writeHead(401, { "www-authenticate": "Basic" });
        return void res.end("unauthorized");
      }
      if (req.url === "/bearer-away") {
        res.writeHead(302, { location: `${otherUrl}/landing` });
        return void res.end();
      }
      res.writeHead(200);
      res.end("ok");
    });
    webUrl = await listen(web);
    check = await LocalLambda.start("check", {
      env: {
        MACKEREL_API_KEY_SECRET_ARN: API_SECRET,
        MACKEREL_API_BASE_URL: mackerel.url,
        MACKEREL_SERVICE_NAME: "shop",
        MACKEREL_HOST_NAME: "http-auth-test",
        AWS_ENDPOINT_URL_SECRETS_MANAGER: aws.url,
      },
    });
  });

  afterAll(async () => {
    await check?.stop();
    for (const server of [web, other]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await aws.close();
    await mackerel.close();
  });

  const run = async (name: string, path: string, secret: string) => {
    const result = (await check.invokeOrThrow({
      check: { kind: "http", name, url: `${webUrl}${path}`, headers_secret_arn: secret },
    })) as { status: string };
    const report = mackerel
      .checkReports()
      .filter((r) => r.name === name)
      .at(-1)!;
    return { status: result.status, message: report.message };
  };

  test("basic auth and bearer headers from the secret reach the server; the check is OK", async () => {
    expect(await run("basic", "/basic", BASIC)).toMatchObject({ status: "OK" });
    expect(await run("bearer", "/bearer", BEARER)).toMatchObject({ status: "OK" });
    expect(seen.find((s) => s.path === "/bearer")!.headers["x-tenant"]).toBe("t1");
    // Read once per container: a second run uses the cached secret.
    await run("basic", "/basic", BASIC);
    expect(aws.callsTo("secretsmanager.GetSecretValue").filter((c) => c.input.SecretId === BASIC)).toHaveLength(1);
  });

  test("a redirect to another origin drops every header from the secret", async () => {
    expect(await run("away", "/bearer-away", BEARER)).toMatchObject({ status: "OK" });
    const landing = seen.find((s) => s.server === "other")!;
    expect(landing.headers.authorization).toBeUndefined();
    expect(landing.headers["x-tenant"]).toBeUndefined();
  });

  test("a throttled or missing secret: UNKNOWN naming the secret (the request is not sent without it)", async () => {
    const before = seen.length;
    const throttled = await run("throttled", "/basic", THROTTLED);
    expect(throttled.status).toBe("UNKNOWN");
    expect(throttled.message).toContain(`Secrets Manager unavailable reading the headers secret ${THROTTLED}`);
    const missing = await run("missing", "/basic", MISSING);
    expect(missing.status).toBe("UNKNOWN");
    expect(missing.message).toContain(`the headers secret ${MISSING} cannot be read: ResourceNotFoundException`);
    expect(seen.length).toBe(before);
  });

  test("no secret value in any log line or report", () => {
    const everything = [...check.logs, ...mackerel.checkReports().map((r) => r.message)].join("\n");
    expect(everything).not.toContain(PASSWORD);
    expect(everything).not.toContain(TOKEN);
    expect(everything).not.toContain(Buffer.from(`monitor:${PASSWORD}`).toString("base64"));
  });
});
