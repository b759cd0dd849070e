/**
 * Built-in redaction rules, parts 1 and 3 of 3: blocks and URLs (applied first: they contain tokens), and the
 * context rules (headers, `key=value` pairs, flags) with e-mail addresses (applied last). The order within
 * is the order of application (see {@link redactionRules} in ./redact.ts).
 */
import { mask, type RedactionRule } from "./redact-rule.js";

/** Separators of a key from its value: `=`, `:`, `=>`, `:=`, optionally inside quotes (also JSON-escaped ones). */
const SEP = String.raw`\\?["']?[ \t]*(?:=>|:=|[:=])[ \t]*`;

/**
 * Key names whose value is a secret. A key must END with one of these (`db_password`, `clientSecret`,
 * `X-Api-Key`, `aws_secret_access_key`), so keys that merely contain one (`max_tokens`, `token_count`,
 * `password_policy`) are kept.
 */
const SECRET_KEY_SUFFIX = String.raw`(?:password|passwd|passphrase|passcode|pwd|secret|token|credentials?|signature|api[_-]?key|apikey|(?:access|secret|private|signing|encryption|master|client|account|shared|app|auth|service|subscription|license|session|storage|consumer|webhook|admin|root)[_-]?key)`;

/** Literals every secret key name contains (lower case): the pre-check of the pair rules. */
const SECRET_KEY_WORDS = ["pass", "pwd", "secret", "token", "credential", "sig", "key"];

/** Keys that are secret only as the whole name (or after a separator): `pass=`, `sig=`, but not `bypass=`. */
const SECRET_KEY_WHOLE = String.raw`(?:pass|sig)`;

const KEY = String.raw`(?:[A-Za-z0-9_.-]*?${SECRET_KEY_SUFFIX}|(?:[A-Za-z0-9_.-]*?[_.-])?${SECRET_KEY_WHOLE})`;

/** What precedes `secret:` in a Secrets Manager ARN (bounded: partition, region and account have fixed shapes). */
const SECRET_ARN_PREFIX = String.raw`arn:aws[a-z-]{0,10}:secretsmanager:[a-z0-9-]{0,25}:[0-9]{12}:`;

/** A value: double-quoted (escapes allowed), JSON-escaped double-quoted, single-quoted, or bare. */
const VALUE = String.raw`(?:"(?!\[REDACTED)(?<dq>(?:[^"\\\r\n]|\\.){1,4096})"|\\"(?!\[REDACTED)(?<edq>(?:[^\\\r\n]|\\[^"]){1,4096})\\"|'(?!\[REDACTED)(?<sq>[^'\r\n]{1,4096})'|(?!(?:null|true|false|undefined)(?![A-Za-z0-9_]))(?<bare>[^\s"'\\,;&(){}\[\]<>]{1,4096}))`;

/** The kind shown for a `key=value` pair, from its key. */
function pairKind(key: string): string {
  const k = key.toLowerCase();
  if (/pass|pwd/.test(k)) return "password";
  if (/token/.test(k)) return "token";
  if (/sig/.test(k)) return "signature";
  if (/key/.test(k)) return "key";
  return "secret";
}

/** Masks the value of a pair, keeping its quotes. */
function replacePair(match: string, g: Readonly<Record<string, string | undefined>>): string {
  const pre = g.pre ?? "";
  const kind = pairKind(pre);
  if (g.dq !== undefined) return `${pre}"${mask(kind)}"`;
  if (g.edq !== undefined) return `${pre}\\"${mask(kind)}\\"`;
  if (g.sq !== undefined) return `${pre}'${mask(kind)}'`;
  if (g.bare !== undefined) return `${pre}${mask(kind)}`;
  return match;
}

/** Private key blocks, URLs with credentials and connection strings, in the order they apply. */
export function blockRules(): RedactionRule[] {
  return [
    {
      // A whole PEM/OpenSSH/PGP private key block, raw or inside a JSON string (`\n` escapes); a block cut
      // short (no END line: a cut body, a split event) is masked to the end of the text.
      kind: "private-key",
      follows: ["gitleaks:private-key", "secretlint:@secretlint/secretlint-rule-privatekey"],
      anchors: ["PRIVATE KEY"],
      pattern:
        /-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----|[\s\S]*)/g,
    },
    {
      // `scheme://user:password@host`: keeps the user and the host. The password may contain `/` or `@`
      // (unencoded, as people write them); a port (`host:8080/`) is not a password.
      kind: "password",
      follows: [
        "secretlint:@secretlint/secretlint-rule-database-connection-string",
        "secretlint:@secretlint/secretlint-rule-basicauth",
        "gitleaks:generic-api-key",
      ],
      anchors: ["://"],
      requires: ["@"],
      pattern:
        /(?<pre>(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,30}:\/\/[^\s:/?#@"'<>]{0,128}:)(?!\d{1,5}(?:[/?#\s"'<>]|$))[^\s"'<>]{1,128}?(?<post>@[A-Za-z0-9[][A-Za-z0-9.:\]-]*(?=[/?#\s"'<>,;)]|$))/g,
    },
    {
      kind: "slack-webhook",
      follows: ["gitleaks:slack-webhook-url", "secretlint:@secretlint/secretlint-rule-slack"],
      anchors: ["hooks.slack.com"],
      pattern: /(?<pre>hooks\.slack\.com\/(?:services|workflows|triggers)\/)[A-Za-z0-9+/_-]{8,300}/g,
    },
    {
      kind: "teams-webhook",
      follows: ["gitleaks:microsoft-teams-webhook"],
      anchors: [".webhook.office.com"],
      pattern: /(?<pre>\.webhook\.office\.com\/webhookb2\/)[^\s"'<>]{8,400}/g,
    },
    {
      kind: "discord-webhook",
      follows: ["gitleaks:discord-api-token (the webhook form)"],
      anchors: ["/api/webhooks/"],
      pattern: /(?<pre>discord(?:app)?\.com\/api\/webhooks\/)[0-9]{5,30}\/[A-Za-z0-9_-]{8,200}/g,
    },
    {
      // Azure Storage / Service Bus / Event Hubs connection strings; SAS signatures in URLs.
      kind: "azure-key",
      follows: ["gitleaks:generic-api-key", "gitleaks:azure-ad-client-secret (Azure family)"],
      anchors: ["AccountKey=", "SharedAccessKey=", "SharedAccessSignature=", "sig="],
      pattern: /(?<pre>(?:AccountKey|SharedAccessKey|SharedAccessSignature)=|[?&;]sig=)[^\s"'<>;&]{8,1024}(?<post>;?)/g,
    },
  ];
}

/** Headers, `key=value` pairs, flags, then e-mail addresses, in the order they apply. */
export function contextRules(): RedactionRule[] {
  return [
    {
      // `Authorization: Bearer …` / `"authorization":"Basic …"`: the scheme is kept.
      kind: "authorization",
      follows: ["gitleaks:curl-auth-header", "secretlint:@secretlint/secretlint-rule-basicauth"],
      lowerAnchors: ["authorization"],
      pattern:
        /(?<pre>authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?(?:(?:bearer|basic|digest|negotiate|ntlm|token|apikey|sso-key|aws4-hmac-sha256)[ \t]+)?)(?!\[REDACTED|(?:bearer|basic|digest|negotiate|ntlm|token|apikey|sso-key|aws4-hmac-sha256)[ \t]+\[REDACTED)[^\s"'\\,;]{1,8192}/gi,
    },
    {
      kind: "cookie",
      follows: ["gitleaks:gitlab-session-cookie (session cookies)"],
      lowerAnchors: ["cookie"],
      pattern: /(?<pre>(?:set-)?cookie\\?["']?[ \t]*:[ \t]*\\?["']?)[^\r\n"'\\]{1,8192}/gi,
    },
    {
      kind: "token",
      follows: ["gitleaks:curl-auth-header"],
      lowerAnchors: ["bearer"],
      pattern: /(?<pre>(?<![A-Za-z0-9_-])bearer[ \t]+)(?!\[REDACTED)[A-Za-z0-9._~+/-]{8,8192}=*/gi,
    },
    {
      // `curl -u user:password`, `--user user:password`.
      kind: "password",
      follows: ["gitleaks:curl-auth-user"],
      anchors: ["-u", "--user"],
      pattern: /(?<pre>(?<![A-Za-z0-9_-])(?:-u|--user)(?:[ \t]+|=)["']?[^\s:"']{1,256}:)[^\s"']{1,1024}/g,
    },
    {
      // `<add key="Password" value="…"/>` (NuGet, .NET config).
      kind: "password",
      follows: ["gitleaks:nuget-config-password"],
      lowerAnchors: ["value="],
      pattern:
        /(?<pre>key=["'][^"'<>]{0,100}(?:password|secret|token|apikey|api_key)["'][ \t]+value=["'])[^"'\r\n]{1,4096}/gi,
      replace: (_m, g) => `${g.pre}${mask(pairKind(g.pre!))}`,
    },
    {
      // `<password>…</password>`, `<db:clientSecret>…</db:clientSecret>`.
      kind: "secret",
      follows: ["gitleaks:generic-api-key (XML form)"],
      anchors: ["</"],
      pattern: new RegExp(String.raw`(?<pre><${KEY}>)(?!\[REDACTED)[^<]{1,4096}(?=</)`, "gi"),
      replace: (_m, g) => `${g.pre}${mask(pairKind(g.pre!))}`,
    },
    {
      // `key=value`, `key: value`, `"key": "value"`, `\"key\":\"value\"`, `key => 'value'`, `--password=x`,
      // YAML `password: x`, query strings `&token=x`.
      kind: "secret",
      follows: ["gitleaks:generic-api-key", "gitleaks:hashicorp-tf-password"],
      lowerAnchors: SECRET_KEY_WORDS,
      // Not the resource type of a Secrets Manager ARN (`…:secret:<name>`): the name of a secret is no secret.
      pattern: new RegExp(String.raw`(?<pre>(?<![A-Za-z0-9_.-])(?<!${SECRET_ARN_PREFIX})${KEY}${SEP})${VALUE}`, "gi"),
      replace: replacePair,
    },
    {
      // Command-line flags with the value after a space: `--password x`, `-password x`, `--api-key x`;
      // and the words `passwd x` / `pwd x`. A value starting with `-` is the next flag, not a secret.
      kind: "password",
      follows: ["gitleaks:generic-api-key (command-line form)"],
      lowerAnchors: SECRET_KEY_WORDS,
      pattern: new RegExp(
        String.raw`(?<pre>(?:(?<![A-Za-z0-9_-])--?[A-Za-z0-9_-]{0,40}?${SECRET_KEY_SUFFIX}|(?<![A-Za-z0-9_-])(?:passwd|pwd))[ \t]+)(?:"(?<dq>[^"\r\n]{1,4096})"|'(?<sq>[^'\r\n]{1,4096})'|(?<bare>(?![-\[])[^\s"']{1,4096}))`,
        "gi",
      ),
      replace: replacePair,
    },

    // --- Personal data ----------------------------------------------------------------------------------
    {
      // The last label must start with a letter, so `package@1.2.3` is kept.
      kind: "email",
      follows: ["project rule: e-mail addresses are personal data (no secret-scanner rule)"],
      anchors: ["@"],
      pattern:
        /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,256}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,10}\.[A-Za-z][A-Za-z0-9-]{0,62}/g,
    },
  ];
}
