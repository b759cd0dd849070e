import { createRedactor, REDACTED } from "../../functions/shared/redact";
import { UserRegExpError } from "../../functions/shared/user-regexp";

const redact = createRedactor();
const R = REDACTED;

describe("built-in redaction: secrets are replaced, their context kept", () => {
  test.each([
    // AWS access key ids
    ["key id AKIAIOSFODNN7EXAMPLE used", `key id ${R} used`],
    ["ASIAY34FZKBOKMUTVV7A expired", `${R} expired`],
    ['{"AccessKeyId":"ASIAY34FZKBOKMUTVV7A"}', `{"AccessKeyId":"${R}"}`],
    // Authorization headers and bearer tokens
    ["Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", `Authorization: Bearer ${R}`],
    ["authorization=Basic dXNlcjpwYXNzd29yZA==", `authorization=Basic ${R}`],
    ['headers {"Authorization":"Bearer abc.def.ghi"}', `headers {"Authorization":"Bearer ${R}"}`],
    ["Authorization: sk_live_51H8abcdef", `Authorization: ${R}`],
    ["calling with bearer 0123456789abcdef", `calling with bearer ${R}`],
    ["Proxy-Authorization: Basic Zm9vOmJhcg==", `Proxy-Authorization: Basic ${R}`],
    // cookies (session credentials)
    ["Cookie: theme=dark; session=abc123", `Cookie: ${R}`],
    ['{"set-cookie":"sid=xyz; Path=/; HttpOnly","x":1}', `{"set-cookie":"${R}","x":1}`],
    // key=value pairs
    ["login password=hunter2 user=bob", `login password=${R} user=bob`],
    ["passwd=s3cr3t&next=/home", `passwd=${R}&next=/home`],
    ["db_password: p@ss!w0rd, next", `db_password: ${R}, next`],
    ["secret=abc123", `secret=${R}`],
    ["client_secret = xyz", `client_secret = ${R}`],
    ["token=abc.def", `token=${R}`],
    ["access_token=ya29.a0Af", `access_token=${R}`],
    ["api_key=k-123", `api_key=${R}`],
    ["apikey=k-123", `apikey=${R}`],
    ["X-Api-Key: 0123abcd", `X-Api-Key: ${R}`],
    ["PASSWORD=Hunter2", `PASSWORD=${R}`],
    ["?user=bob&password=hunter2", `?user=bob&password=${R}`],
    // JSON forms, quotes kept
    ['{"password": "hunter 2 with spaces"}', `{"password": "${R}"}`],
    ['{"password":"with \\"escaped\\" quotes","user":"bob"}', `{"password":"${R}","user":"bob"}`],
    ['{"clientSecret":"abc","accessToken":"def"}', `{"clientSecret":"${R}","accessToken":"${R}"}`],
    ['{"apiKey": 12345}', `{"apiKey": ${R}}`],
    ["{'password': 'hunter2'}", `{'password': '${R}'}`],
    // JSON inside a JSON log line (escaped quotes)
    ['{"message":"{\\"password\\":\\"hunter2\\",\\"u\\":1}"}', `{"message":"{\\"password\\":\\"${R}\\",\\"u\\":1}"}`],
    // AWS secret access keys
    ["aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", `aws_secret_access_key=${R}`],
    ['"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"', `"SecretAccessKey": "${R}"`],
    ["secret key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked", `secret key ${R} leaked`],
    // e-mail addresses
    ["sent to alice@example.com", `sent to ${R}`],
    ["From: Bob.Smith+tag@mail.example.co.jp, cc x", `From: ${R}, cc x`],
    ["<ops-team@corp.example.org>", `<${R}>`],
  ])("%j", (line, expected) => {
    expect(redact(line)).toBe(expected);
  });

  test("several secrets in one line are all redacted", () => {
    expect(redact("user=alice@example.com password=x token=y AKIAIOSFODNN7EXAMPLE")).toBe(
      `user=${R} password=${R} token=${R} ${R}`,
    );
  });

  test("nothing of a secret survives in any of the positive examples", () => {
    const secrets = ["hunter2", "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI", "eyJhbGciOiJIUzI1NiJ9"];
    const line = `a=1 password=hunter2 k=AKIAIOSFODNN7EXAMPLE s="secret: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y`;
    const out = redact(line);
    for (const secret of secrets) expect(out).not.toContain(secret);
  });
});

describe("built-in redaction: ordinary log text is kept", () => {
  test.each([
    "processed 42 orders in 120 ms",
    "max_tokens=512 temperature=0.2", // a key that merely contains "token"
    "token_count=12 tokens=5",
    "cookie jar emptied", // the word without a header value
    "password reset email sent", // the word without a value
    "The bearer of this message", // short word after "bearer"
    "installed lodash@4.17.21", // not an e-mail: the last label is a number
    "cache key 3f786850e387550fdab836ed7e6dc881de23001b", // 40 hex characters (SHA-1) after "key"
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "AKIA is a prefix, AKIAshort is not a key",
    "user@localhost said hi", // no dot in the domain
    "START RequestId: 8f5a2c1e-89ab-4def-8123-456789abcdef Version: $LATEST",
    '{"level":"INFO","message":"ok","requestId":"8f5a2c1e-89ab-4def-8123-456789abcdef"}',
    "日本語のメッセージ 🎉",
    "",
  ])("%j", (line) => {
    expect(redact(line)).toBe(line);
  });
});

describe("user patterns", () => {
  test("are applied after the built-ins, replacing each whole match", () => {
    const custom = createRedactor(["customer-\\d+", "(?i)ssn:\\s*\\d{3}-\\d\\d-\\d{4}"]);
    expect(custom("order for customer-123 and customer-9, SSN: 123-45-6789 password=x")).toBe(
      `order for ${R} and ${R}, ${R} password=${R}`,
    );
  });

  test("compiled expressions are accepted too (and given the g flag)", () => {
    expect(createRedactor([/card=\d+/])("card=4111 card=4222")).toBe(`${R} ${R}`);
  });

  test("an unsafe pattern is refused when the redactor is created", () => {
    expect(() => createRedactor(["(a)\\1"])).toThrow(UserRegExpError);
  });

  test("a catastrophic user pattern cannot stall redaction", () => {
    const custom = createRedactor(["(x+)+y"]);
    const started = performance.now();
    expect(custom(`${"x".repeat(4096)}!`)).toBe(`${"x".repeat(4096)}!`);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe("built-in patterns are cheap on long hostile lines", () => {
  test.each([
    ["a long word", "a".repeat(16_384)],
    ["a long local part without @", "a.b".repeat(5_000)],
    ["many dots after @", `x@${"a.".repeat(5_000)}`],
    ["many key=value pairs", "k=v ".repeat(4_000)],
    ["a long run of spaces", `password=${" ".repeat(16_000)}x`],
    ["long base64", "QUJD".repeat(4_000)],
  ])("%s", (_name, line) => {
    const started = performance.now();
    redact(line);
    expect(performance.now() - started).toBeLessThan(250);
  });
});

describe("tokens and URL credentials", () => {
  const redact = createRedactor();
  test.each([
    ["token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl end", `token ${REDACTED} end`],
    ["calling https://deploy:s3cr3t@git.example.com/repo.git", `calling https://${REDACTED}@git.example.com/repo.git`],
    ["postgres://app:pw@db:5432/orders", `postgres://${REDACTED}@db:5432/orders`],
  ])("%s", (input, output) => {
    expect(redact(input)).toBe(output);
  });

  test.each([
    "see https://example.com/a:b@c is not a credential",
    "eyJ alone is no token",
    "ftp://host/path and user@host without a domain",
  ])("leaves %s alone", (input) => {
    expect(redact(input)).toBe(input);
  });
});
