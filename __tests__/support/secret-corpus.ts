/**
 * A corpus of real-FORMAT secrets for the redaction tests, GENERATED at test time from a seeded PRNG: no
 * real secret, and no committed string that a secret scanner would flag. Each case is one kind of secret
 * in its usual context; {@link forms} puts it into a text line, a JSON log line and a multi-line event.
 *
 * `parts` are the distinctive (random) parts of the secret: a test asserts that no 8-character piece of any
 * of them survives redaction.
 */
import { mulberry32 } from "../../scripts/testing";

export interface SecretCase {
  /** Short, unique, for test names and rule names. */
  id: string;
  /** The mask kind the redactor should show (`[REDACTED:<kind>]`). */
  kind: string;
  /** The line (or lines) in which the secret appears. */
  context: string;
  /** The random parts of the secret that must not survive. */
  parts: string[];
}

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALNUM = UPPER + LOWER + DIGITS;
const HEX = "0123456789abcdef";
const B64 = `${ALNUM}+/`;
const B64URL = `${ALNUM}-_`;
/** Password characters that every context form keeps inside the value (no separators, quotes, spaces). */
const PASSWORD = `${ALNUM}!#%*-_.~^`;

/** Builds the corpus for `seed` (the same seed gives the same corpus). */
export function secretCorpus(seed = 20_241_201): SecretCase[] {
  const rng = mulberry32(seed);
  const pick = (alphabet: string, n: number) =>
    Array.from({ length: n }, () => alphabet[Math.floor(rng() * alphabet.length)]).join("");
  // Random parts always mix classes, so they cannot be mistaken for ordinary words.
  const body = (alphabet: string, n: number) => pick(alphabet, n);
  const b64 = (bytes: number) =>
    Buffer.from(Array.from({ length: bytes }, () => Math.floor(rng() * 256))).toString("base64");
  const b64url = (text: string) => Buffer.from(text).toString("base64url");
  const pemBody = (lines: number) => Array.from({ length: lines }, () => pick(B64, 64));

  const cases: SecretCase[] = [];
  const add = (id: string, kind: string, context: string, ...parts: string[]) =>
    cases.push({ id, kind, context, parts });

  // AWS
  const id1 = body(UPPER + DIGITS, 16);
  add("aws-key-id", "aws-access-key-id", `assumed credentials AKIA${id1} for deploy`, id1);
  const id2 = body(UPPER + DIGITS, 16);
  const sk2 = body(B64, 40);
  add("aws-credentials-csv", "aws-secret-access-key", `deploy-bot,AKIA${id2},${sk2}`, id2, sk2);
  const sk3 = body(B64, 40);
  add("aws-secret-env", "aws-secret-access-key", `export aws_secret_access_key = ${sk3}`, sk3);
  const sk4 = body(B64, 40);
  add("aws-secret-json", "aws-secret-access-key", `credentials {"SecretAccessKey": "${sk4}", "Expiration": 1}`, sk4);
  const st = body(B64, 300);
  add("aws-session-token", "aws-session-token", `sts returned IQoJb3JpZ2luX2Vj${st} ok`, st);
  // Source hosting and registries
  for (const prefix of ["ghp", "gho", "ghs", "ghu"]) {
    const b = body(ALNUM, 36);
    add(`github-${prefix}`, "github-token", `git push with ${prefix}_${b} refused`, b);
  }
  const pat = body(ALNUM + "_", 82);
  add("github-fine-grained", "github-token", `GITHUB_TOKEN github_pat_${pat} used`, pat);
  const gl = body(B64URL, 20);
  add("gitlab-pat", "gitlab-token", `clone with glpat-${gl} failed`, gl);
  const glrt = body(B64URL, 20);
  add("gitlab-runner", "gitlab-token", `runner registered glrt-${glrt}`, glrt);
  const npm = body(LOWER + DIGITS, 36);
  add("npm", "npm-token", `npm publish used npm_${npm}`, npm);
  const pypi = body(B64URL, 70);
  add("pypi", "pypi-token", `twine upload -p pypi-AgEIcHlwaS5vcmc${pypi}`, pypi);
  const gems = body(HEX, 48);
  add("rubygems", "rubygems-token", `gem push rubygems_${gems}`, gems);
  // Chat
  const xb = [pick(DIGITS, 12), pick(DIGITS, 13), body(ALNUM, 24)];
  add("slack-bot", "slack-token", `slack auth xoxb-${xb.join("-")} invalid`, xb[2]!, `${xb[1]}-${xb[2]}`);
  const xp = [pick(DIGITS, 12), pick(DIGITS, 12), pick(DIGITS, 12), body(HEX, 32)];
  add("slack-user", "slack-token", `slack user token xoxp-${xp.join("-")}`, xp[3]!);
  const hook = [body(UPPER + DIGITS, 10), body(UPPER + DIGITS, 10), body(ALNUM, 24)];
  add(
    "slack-webhook",
    "slack-webhook",
    `POST https://hooks.slack.com/services/T${hook[0]}/B${hook[1]}/${hook[2]} returned 404`,
    hook[1]!,
    hook[2]!,
  );
  const tg = body(ALNUM + "_-", 34);
  add("telegram", "telegram-bot-token", `bot ${pick(DIGITS, 10)}:A${tg} blocked`, tg);
  // Payments and APIs
  const sl = body(ALNUM, 24);
  add("stripe-live", "stripe-key", `charge failed with sk_live_${sl}`, sl);
  const rl = body(ALNUM, 24);
  add("stripe-restricted", "stripe-key", `key rk_live_${rl} lacks scope`, rl);
  const gk = body(B64URL, 35);
  add("google-api-key", "google-api-key", `maps request key=AIza${gk} over quota`, gk);
  const sg = [body(B64URL, 22), body(B64URL, 43)];
  add("sendgrid", "sendgrid-key", `mail via SG.${sg[0]}.${sg[1]} rejected`, sg[0]!, sg[1]!);
  const tw = body(HEX, 32);
  add("twilio", "twilio-key", `twilio SK${tw} unauthorized`, tw);
  const mg = body(HEX, 32);
  add("mailgun", "mailgun-key", `mailgun key-${mg} expired`, mg);
  const oa = [body(B64URL, 74), body(B64URL, 74)];
  add("openai", "openai-key", `openai sk-proj-${oa[0]}T3BlbkFJ${oa[1]} 401`, oa[0]!, oa[1]!);
  const an = body(B64URL, 93);
  add("anthropic", "anthropic-key", `anthropic sk-ant-api03-${an}AA rate limited`, an);
  const hf = body(UPPER + LOWER, 34);
  add("huggingface", "huggingface-token", `hub login hf_${hf}`, hf);
  // Cloud and infrastructure
  const ak = b64(64);
  add(
    "azure-storage",
    "azure-key",
    `DefaultEndpointsProtocol=https;AccountName=orders;AccountKey=${ak};EndpointSuffix=core.windows.net`,
    ak.slice(0, 80),
  );
  const dapi = body(HEX, 32);
  add("databricks", "databricks-token", `databricks dapi${dapi} forbidden`, dapi);
  const dop = body(HEX, 64);
  add("digitalocean", "digitalocean-token", `doctl auth dop_v1_${dop}`, dop);
  const shp = body(HEX, 32);
  add("shopify", "shopify-token", `shopify shpat_${shp} denied`, shp);
  const hvs = body(B64URL, 95);
  add("vault", "vault-token", `vault login hvs.${hvs}`, hvs);
  const doppler = body(ALNUM, 43);
  add("doppler", "doppler-token", `doppler dp.pt.${doppler}`, doppler);
  const age = body(UPPER + DIGITS, 58);
  add("age", "age-secret-key", `age key AGE-SECRET-KEY-1${age}`, age);
  // Private keys
  const rsa = pemBody(8);
  add(
    "pem-rsa-multiline",
    "private-key",
    `loaded key:\n-----BEGIN RSA PRIVATE KEY-----\n${rsa.join("\n")}\n-----END RSA PRIVATE KEY-----\ndone`,
    ...rsa,
  );
  const pk = pemBody(6);
  add(
    "pem-in-json-field",
    "private-key",
    JSON.stringify({
      type: "service_account",
      private_key: `-----BEGIN PRIVATE KEY-----\n${pk.join("\n")}\n-----END PRIVATE KEY-----\n`,
    }),
    ...pk,
  );
  const ssh = pemBody(5);
  add(
    "openssh",
    "private-key",
    `-----BEGIN OPENSSH PRIVATE KEY-----\n${ssh.join("\n")}\n-----END OPENSSH PRIVATE KEY-----`,
    ...ssh,
  );
  const cut = pemBody(4);
  add("pem-cut-short", "private-key", `-----BEGIN EC PRIVATE KEY-----\n${cut.join("\n")}`, ...cut);
  // Tokens and headers
  const jwtPayload = b64url(JSON.stringify({ sub: body(ALNUM, 24), iat: 1_700_000_000 }));
  const jwtSig = body(B64URL, 43);
  add(
    "jwt",
    "jwt",
    `session eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${jwtPayload}.${jwtSig} expired`,
    jwtPayload.slice(12),
    jwtSig,
  );
  const bearer = body(ALNUM, 40);
  add("bearer", "authorization", `Authorization: Bearer ${bearer}`, bearer);
  const basic = Buffer.from(`svc:${body(ALNUM, 16)}`).toString("base64");
  add("basic", "authorization", `headers {"Authorization":"Basic ${basic}"}`, basic.slice(4));
  const cookie = body(ALNUM, 32);
  add("cookie", "cookie", `Cookie: sessionid=${cookie}; theme=dark`, cookie);
  const apiKeyHeader = body(ALNUM, 32);
  add("x-api-key", "key", `X-Api-Key: ${apiKeyHeader}`, apiKeyHeader);
  // URLs and connection strings
  const urlPw = `${body(ALNUM, 6)}/${body(ALNUM, 8)}`;
  add("url-password-slash", "password", `connect https://admin:${urlPw}@db.internal/app failed`, urlPw);
  const pgPw = body(ALNUM, 14);
  add("postgres-url", "password", `DATABASE_URL=postgres://app:${pgPw}@db.example.internal:5432/orders`, pgPw);
  const mongoPw = body(ALNUM, 14);
  add("mongodb-srv", "password", `mongodb+srv://reader:${mongoPw}@cluster0.example.net/test`, mongoPw);
  // Generic assignments
  const pw = [1, 2, 3, 4, 5, 6, 7, 8, 9].map(() => body(PASSWORD, 14));
  add("password-eq", "password", `login password=${pw[0]} user=bob`, pw[0]!);
  add("pwd-eq", "password", `Server=db;Uid=app;Pwd=${pw[1]};`, pw[1]!);
  add("passwd-space", "password", `useradd bob passwd ${pw[2]} done`, pw[2]!);
  add("password-flag", "password", `mysqldump --password ${pw[3]} orders`, pw[3]!);
  add("password-flag-eq", "password", `psql --password=${pw[4]} -h db`, pw[4]!);
  add("password-json", "password", `payload {"user":"bob","password":"${pw[5]}"}`, pw[5]!);
  add("password-yaml", "password", `config:\n  db_password: ${pw[6]}\n  host: db`, pw[6]!);
  add("password-xml", "password", `<config><password>${pw[7]}</password></config>`, pw[7]!);
  add("curl-user", "password", `curl -u deploy:${pw[8]} https://ci.example.com`, pw[8]!);
  const cs = body(ALNUM, 32);
  add("client-secret", "secret", `oauth client_secret=${cs}&grant_type=client_credentials`, cs);
  const ak2 = body(ALNUM, 32);
  add("api-key-colon", "key", `config api_key: ${ak2}`, ak2);
  const tok = body(ALNUM, 32);
  add("token-query", "token", `GET /callback?code=1&access_token=${tok}&state=x`, tok);
  // Personal data
  const user = body(LOWER, 10);
  add("email", "email", `invoice sent to ${user}.${body(LOWER, 6)}@example.com`, user);
  return cases;
}

/** The three forms a case is logged in: a text line, a JSON log line, a multi-line event. */
export function forms(c: SecretCase, marker: string): { form: string; text: string }[] {
  const stamp = "2024-05-01T12:00:00.000Z\t8f5a2c1e-89ab-4def-8123-456789abcdef";
  return [
    { form: "text", text: `${stamp}\tERROR\t${marker} ${c.context}\n` },
    {
      form: "json",
      text: JSON.stringify({ level: "ERROR", requestId: "8f5a2c1e", message: `${marker} ${c.context}` }),
    },
    {
      form: "multiline",
      text: `${stamp}\tERROR\t${marker} request failed\n  at handler (index.js:10:5)\n  ${c.context}\n  at next (index.js:20:1)\n`,
    },
  ];
}

/** The 8-character pieces of `parts` found in `text` (empty when nothing survived). */
export function survivingPieces(text: string, parts: readonly string[], width = 8): string[] {
  const found = new Set<string>();
  for (const part of parts) {
    for (let i = 0; i + width <= part.length; i++) {
      const piece = part.slice(i, i + width);
      if (text.includes(piece)) found.add(piece);
    }
  }
  return [...found];
}

/**
 * Ordinary log lines that must come out of redaction exactly as they went in: request ids, UUIDs, trace
 * ids, ARNs, hashes in URLs, git SHAs, timestamps, and words that only look like key names.
 */
export const ORDINARY_LINES: readonly string[] = [
  "START RequestId: 8f5a2c1e-89ab-4def-8123-456789abcdef Version: $LATEST",
  "END RequestId: 8f5a2c1e-89ab-4def-8123-456789abcdef",
  "REPORT RequestId: 8f5a2c1e-89ab-4def-8123-456789abcdef Duration: 12.34 ms Billed Duration: 13 ms Memory Size: 128 MB Max Memory Used: 70 MB",
  '{"level":"INFO","message":"ok","requestId":"8f5a2c1e-89ab-4def-8123-456789abcdef","timestamp":"2024-05-01T12:00:00.000Z"}',
  "X-Amzn-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
  "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
  "arn:aws:lambda:us-east-1:123456789012:function:orders-api:live",
  "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:mackerel-api-key-AbCdEf",
  "arn:aws:iam::123456789012:role/service-role/orders-role",
  "arn:aws:states:ap-northeast-1:123456789012:execution:orders:run-2024-05-01",
  "GET /static/js/main.3f9a8b7c6d5e4f3a.chunk.js?v=9f86d081884c7d65 200",
  "GET https://cdn.example.com/assets/app-5d41402abc4b2a76b9719d911017c592.css 304",
  "commit 3f786850e387550fdab836ed7e6dc881de23001b by ci",
  "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
  "cache key 3f786850e387550fdab836ed7e6dc881de23001b", // 40 hex characters (SHA-1) after "key"
  "processed 42 orders in 120 ms at 2024-05-01T12:00:00+09:00 (1714532400)",
  "max_tokens=512 temperature=0.2 token_count=12 tokens=5",
  "password reset email sent; password_policy=strong",
  "secret_name=prod/db rotation ok",
  "The bearer of this message",
  "installed lodash@4.17.21 and @aws-sdk/client-sqs@3.1169.0",
  "user@localhost said hi",
  "see https://example.com/a:b@c is not a credential",
  "connected to http://localhost:8080/health@v2 ok",
  "ftp://host/path and user@host without a domain",
  "eyJ alone is no token",
  "shop at https://eyeglasses-store.eyewear-online.example/ today", // two labels starting "ey"
  "AKIA is a prefix, AKIAshort is not a key",
  "bypass=true compass: north",
  "token=null password: true",
  "Task timed out after 3.00 seconds",
  "日本語のメッセージ 🎉",
  "",
];
