import {
  createRedactor,
  mask,
  REDACT_MARGIN_CHARS,
  redactionRules,
  redactBuiltIn,
  redactMessage,
  redactShown,
  USER_PATTERN_MASK,
} from "../../../functions/shared/redact";
import { registerSecret } from "../../../functions/shared/secrets";
import { UserRegExpError } from "../../../functions/shared/errors";
import { forms, ORDINARY_LINES, secretCorpus, survivingPieces } from "../../support/secret-corpus";

const redact = createRedactor();
const R = mask;

describe("the generated corpus of real-format secrets", () => {
  const corpus = secretCorpus();

  test("has at least 40 kinds of secrets", () => {
    expect(new Set(corpus.map((c) => c.id)).size).toBeGreaterThanOrEqual(40);
    expect(corpus.length).toBeGreaterThanOrEqual(40);
  });

  test.each(corpus.map((c) => [c.id, c] as const))(
    "%s: masked whole in a text line, JSON and a multi-line event",
    (_id, c) => {
      for (const { form, text } of forms(c, "[case]")) {
        // The raw form does contain the secret (the check below could not fail otherwise).
        expect(survivingPieces(text, c.parts).length).toBeGreaterThan(0);
        const out = redact(text);
        expect({ form, survived: survivingPieces(out, c.parts) }).toEqual({ form, survived: [] });
        expect(out).toContain("[case]");
        expect(out).toMatch(/\[REDACTED:[a-z0-9-]+\]/);
        // The kind shown is the secret's own (in JSON the escaped quotes may turn it into a generic pair).
        if (form !== "json") expect(out).toContain(R(c.kind));
      }
    },
  );
});

test("redaction is idempotent: a masked text stays as it is", () => {
  for (const c of secretCorpus(3)) {
    for (const { text } of forms(c, "[case]")) {
      const once = redact(text);
      expect(redact(once)).toBe(once);
    }
  }
});

describe("built-in redaction keeps the context", () => {
  test.each([
    ["key id AKIAIOSFODNN7EXAMPLE used", `key id ${R("aws-access-key-id")} used`],
    ['{"AccessKeyId":"ASIAY34FZKBOKMUTVV7A"}', `{"AccessKeyId":"${R("aws-access-key-id")}"}`],
    ["Authorization: Bearer abc.def-ghijkl", `Authorization: Bearer ${R("authorization")}`],
    ["Proxy-Authorization: Basic Zm9vOmJhcg==", `Proxy-Authorization: Basic ${R("authorization")}`],
    ["calling with bearer 0123456789abcdef", `calling with bearer ${R("token")}`],
    ["Cookie: theme=dark; session=abc123", `Cookie: ${R("cookie")}`],
    ['{"set-cookie":"sid=xyz; Path=/; HttpOnly","x":1}', `{"set-cookie":"${R("cookie")}","x":1}`],
    ["login password=hunter2 user=bob", `login password=${R("password")} user=bob`],
    ["passwd=s3cr3t&next=/home", `passwd=${R("password")}&next=/home`],
    ["db_password: p@ss!w0rd, next", `db_password: ${R("password")}, next`],
    ["client_secret = xyz", `client_secret = ${R("secret")}`],
    ["token=abc.def", `token=${R("token")}`],
    ["apikey=k-123", `apikey=${R("key")}`],
    ["?user=bob&password=hunter2", `?user=bob&password=${R("password")}`],
    ['{"password": "hunter 2 with spaces"}', `{"password": "${R("password")}"}`],
    ['{"password":"with \\"escaped\\" quotes","user":"bob"}', `{"password":"${R("password")}","user":"bob"}`],
    ['{"apiKey": 12345}', `{"apiKey": ${R("key")}}`],
    ["{'password': 'hunter2'}", `{'password': '${R("password")}'}`],
    [
      '{"message":"{\\"password\\":\\"hunter2\\",\\"u\\":1}"}',
      `{"message":"{\\"password\\":\\"${R("password")}\\",\\"u\\":1}"}`,
    ],
    ["ruby password => 'x1'", `ruby password => '${R("password")}'`],
    ['go secret := "x1"', `go secret := "${R("secret")}"`],
    ["pwd=abc123;", `pwd=${R("password")};`],
    ["--password s3cret --verbose", `--password ${R("password")} --verbose`],
    ["--password -v", "--password -v"], // the next flag, not a value
    ["https://admin:pa/ss@db.internal/", `https://admin:${R("password")}@db.internal/`],
    ["redis://:pw123@cache:6379/0", `redis://:${R("password")}@cache:6379/0`],
    ["postgres://app:p@ss@db:5432/orders", `postgres://app:${R("password")}@db:5432/orders`],
    ["sent to alice@example.com", `sent to ${R("email")}`],
    ['{"token":"ghp_abcdefghijklmnopqrstuvwxyz0123456789"}', `{"token":"${R("github-token")}"}`],
    ['<add key="ClearTextPassword" value="x1y2" />', `<add key="ClearTextPassword" value="${R("password")}" />`],
    ["secret key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY leaked", `secret key ${R("aws-secret-access-key")} leaked`],
    [
      "https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXX ok",
      `https://hooks.slack.com/services/${R("slack-webhook")} ok`,
    ],
  ])("%j", (line, expected) => {
    expect(redact(line)).toBe(expected);
  });

  test("the API key registered by the key reader is masked wherever it appears", () => {
    registerSecret("mackerel-test-key-Zx81QpLm");
    expect(redactBuiltIn("echo mackerel-test-key-Zx81QpLm back")).toBe("echo [secret] back");
  });
});

describe("ordinary lines stay readable (exact output)", () => {
  test.each(ORDINARY_LINES)("%j", (line) => {
    expect(redact(line)).toBe(line);
  });
});

describe("user patterns", () => {
  test("are applied after the built-ins, replacing each whole match", () => {
    const custom = createRedactor(["customer-\\d+", "(?i)ssn:\\s*\\d{3}-\\d\\d-\\d{4}"]);
    expect(custom("order for customer-123 and customer-9, SSN: 123-45-6789 password=x")).toBe(
      `order for ${USER_PATTERN_MASK} and ${USER_PATTERN_MASK}, ${USER_PATTERN_MASK} password=${R("password")}`,
    );
  });

  test("compiled expressions are accepted too (and given the g flag)", () => {
    expect(createRedactor([/card=\d+/])("card=4111 card=4222")).toBe(`${USER_PATTERN_MASK} ${USER_PATTERN_MASK}`);
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

describe("redaction before any cut", () => {
  test("a secret after 1,184 spaces is masked before whitespace is collapsed", () => {
    const text = `<html>${" ".repeat(1184)}AKIAQWERTYUIOPASDFGH and more`;
    expect(redactShown(text, 300).replace(/\s+/g, " ")).toBe(`<html> ${R("aws-access-key-id")} and more`);
  });

  test("a private key block that starts in the shown part is masked to its end, even past the window", () => {
    const block = `-----BEGIN RSA PRIVATE KEY-----\n${"QUJD\n".repeat(5000)}-----END RSA PRIVATE KEY-----`;
    const out = redactShown(`key: ${block} tail`, 100);
    expect(out).toBe(`key: ${R("private-key")}`);
  });

  test("only what can be shown and the margin are redacted (and kept)", () => {
    const text = `${"word ".repeat(10_000)}password=late`;
    const out = redactShown(text, 50);
    expect(out.length).toBeLessThanOrEqual(50 + REDACT_MARGIN_CHARS);
    expect(text.startsWith(out)).toBe(true);
  });

  test("redactMessage: one line, bounded, redacted", () => {
    expect(redactMessage(`bad\n  request password=x ${"y".repeat(600)}`, 60)).toBe(
      `bad request password=${R("password")} ${"y".repeat(18)}…`,
    );
  });
});

describe("every built-in rule is linear on long hostile lines", () => {
  // For each rule: its own anchors repeated (many starts), an anchor followed by a long run of the
  // characters its body accepts (one long scan), and plain long runs.
  const hostile: [string, string][] = [];
  const size = 256 * 1024;
  const fill = (unit: string) => unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
  for (const unit of [
    "a",
    "A",
    "0",
    "-",
    "=",
    " ",
    "@",
    "a@",
    "a://",
    "x:y@",
    "key=",
    "password=",
    "--token ",
    "eyJ",
    "ey",
  ]) {
    hostile.push([`256 KiB of ${JSON.stringify(unit)}`, fill(unit)]);
  }
  for (const rule of redactionRules()) {
    for (const anchor of rule.anchors ?? []) {
      hostile.push([`${rule.kind}: ${anchor} repeated`, fill(anchor)]);
      hostile.push([`${rule.kind}: ${anchor} + a long run`, `${anchor}${fill("aB3-")}`]);
    }
  }
  const unique = [...new Map(hostile.map(([name, text]) => [text, name])).entries()].map(([text, name]) => [
    name,
    text,
  ]);

  test.each(unique)("%s", (_name, line) => {
    const started = performance.now();
    redactBuiltIn(line!);
    // Linear: tens of ms for 256 KiB on a development machine; quadratic would take minutes.
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  test("a 4 KiB and a 256 KiB line cost about 64× apart (linear, not quadratic)", () => {
    const line = (n: number) => "lorem ipsum key=value password AKIA token ".repeat(Math.ceil(n / 42)).slice(0, n);
    const small = line(4 * 1024);
    const large = line(256 * 1024);
    // The fastest of several interleaved runs: a run the scheduler paused only ever gets slower. Even so, a
    // loaded machine slows the large line more per character than the small one (measured: 16 KiB against
    // 256 KiB, 16× apart idle, up to 54× under two busy cores, 115× with the mean of 3 runs; the old bound
    // was 64). Hence a 64× spread: linear is 64×, about 170× at worst under load; quadratic is 4096×. The
    // bound keeps the old one's exponent: 512 = 64^1.5, as 64 was 16^1.5.
    redactBuiltIn(small);
    redactBuiltIn(large);
    let fastestSmall = Infinity;
    let fastestLarge = Infinity;
    for (let i = 0; i < 5; i++) {
      let started = performance.now();
      redactBuiltIn(small);
      fastestSmall = Math.min(fastestSmall, performance.now() - started);
      started = performance.now();
      redactBuiltIn(large);
      fastestLarge = Math.min(fastestLarge, performance.now() - started);
    }
    expect(fastestLarge / Math.max(fastestSmall, 0.05)).toBeLessThan(512);
  });
});

describe("the rule table", () => {
  test("every entry names the scanner rules it follows", () => {
    for (const rule of redactionRules()) {
      expect(rule.follows.length).toBeGreaterThan(0);
      for (const id of rule.follows) expect(id).toMatch(/^(gitleaks:|secretlint:|project rule:)/);
      expect(rule.pattern.global).toBe(true);
    }
  });
});
