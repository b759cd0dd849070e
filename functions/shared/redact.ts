/**
 * Redaction of whatever leaves the account: sample log lines, HTTP body excerpts, Logs Insights rows, the
 * messages of errors the functions throw or log.
 *
 * The rule set follows the secret-scanning field, not leaks found one at a time: every entry of
 * {@link redactionRules} names the gitleaks rule ids (config/gitleaks.toml) and the secretlint rules
 * (@secretlint/secretlint-rule-preset-recommend) it follows. Neither is used as a library: secretlint's
 * preset costs a cold start ~13 ms and ~200 µs per sample, is asynchronous, and reports ranges meant for
 * a finding, not a mask (its AWS rule reports the wrong span of a secret key); gitleaks is Go. The
 * patterns here are written for masking instead: they swallow a whole token (any length the format
 * allows, whole PEM blocks across lines, also when cut short), and keep the context a reader needs (the
 * field name, the auth scheme, the URL's host) with the kind: `password=[REDACTED:password]`,
 * `[REDACTED:github-token]`.
 *
 * Linear time on 256 KiB lines: every pattern starts at a rare literal or, where it starts with a class,
 * behind a lookbehind that excludes that class (so it can start only once per run of such characters),
 * and every repetition that can fail after a long scan is bounded. Most rules also name literal
 * `anchors`, checked with `String.includes` before the expression runs at all.
 *
 * The built-ins err on the side of masking: a false positive costs a less useful sample, a false
 * negative leaks a credential to a third-party service and its notification channels.
 */
import { hasRegisteredSecrets, scrubSecrets } from "./secrets.js";
import { compileUserPattern, type UserPattern } from "./user-regexp.js";

/** The mask of a secret of `kind`. */
export function mask(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** What a user `redact` pattern's match becomes. */
export const USER_PATTERN_MASK = mask("custom");

/** A function that returns `text` with secrets masked. */
export type Redactor = (text: string) => string;

/** One entry of the rule set. */
export interface RedactionRule {
  /** Shown in the mask: `[REDACTED:<kind>]`. */
  readonly kind: string;
  /** The gitleaks rule ids (`gitleaks:<id>`) and secretlint rules (`secretlint:<rule>`) this entry follows. */
  readonly follows: readonly string[];
  /** The rule runs only on text that contains one of these literals (case-sensitive). */
  readonly anchors?: readonly string[];
  /** ... and all of these. */
  readonly requires?: readonly string[];
  /** The rule runs only on text whose lower-case form contains one of these (for case-insensitive rules). */
  readonly lowerAnchors?: readonly string[];
  /** Global. Named groups `pre` and `post` are kept around the mask; the rest of the match is masked. */
  readonly pattern: RegExp;
  /** A replacement other than `pre` + mask + `post`. */
  readonly replace?: (match: string, groups: Readonly<Record<string, string | undefined>>) => string;
}

/** Builds a token rule: `body` is masked whole where it starts after none of `boundary`'s characters. */
function token(
  kind: string,
  follows: readonly string[],
  anchors: readonly string[],
  body: string,
  boundary = "A-Za-z0-9",
): RedactionRule {
  return { kind, follows, anchors, pattern: new RegExp(`(?<![${boundary}])(?:${body})`, "g") };
}

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

/**
 * The rule set, applied in this order: blocks and URLs first (they contain tokens), then provider tokens
 * by their documented prefixes, then the context rules (headers, `key=value` pairs, flags), e-mail last.
 */
export function redactionRules(): readonly RedactionRule[] {
  rules ??= buildRules();
  return rules;
}

let rules: readonly RedactionRule[] | undefined;

// Built on first use, not at import: the functions that never redact anything pay nothing at cold start.
function buildRules(): RedactionRule[] {
  return [
    // --- Blocks and URLs -------------------------------------------------------------------------------
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

    // --- AWS -------------------------------------------------------------------------------------------
    {
      // IAM's credentials.csv (`user,AKIA…,<secret key>`) and any key id followed by its secret key.
      kind: "aws-secret-access-key",
      follows: ["gitleaks:aws-access-token", "secretlint:@secretlint/secretlint-rule-aws"],
      anchors: ["A3T", "AKIA", "ASIA", "ABIA", "ACCA"],
      pattern:
        /(?<![A-Za-z0-9])(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?<sep>[,;|\s:="'\\]{1,8})(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/g,
      replace: (_m, g) => `${mask("aws-access-key-id")}${g.sep ?? ""}${mask("aws-secret-access-key")}`,
    },
    token(
      "aws-access-key-id",
      ["gitleaks:aws-access-token", "secretlint:@secretlint/secretlint-rule-aws"],
      ["A3T", "AKIA", "ASIA", "ABIA", "ACCA"],
      "(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16,64}",
    ),
    {
      // `aws_secret_access_key = …`, `"SecretAccessKey": "…"`, `secret key …`: 40 base64 characters after
      // a key word with any separator. Only values with both cases or a `/`/`+` count, so SHA-1 hex is kept.
      kind: "aws-secret-access-key",
      follows: ["secretlint:@secretlint/secretlint-rule-aws", "gitleaks:generic-api-key"],
      lowerAnchors: ["secret", "key", "credential"],
      pattern:
        /(?<pre>(?:secret|key|credentials?)\\?["']?[\s:="'=>]{1,5})(?<secret>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
      replace: (m, g) =>
        /[/+]/.test(g.secret!) || (/[A-Z]/.test(g.secret!) && /[a-z]/.test(g.secret!))
          ? `${g.pre}${mask("aws-secret-access-key")}`
          : m,
    },
    token(
      "aws-session-token",
      ["gitleaks:generic-api-key (STS session tokens by their base64 prefix)"],
      ["FwoGZXIvYXdz", "IQoJb3JpZ2lu"],
      "(?:FwoGZXIvYXdz|IQoJb3JpZ2lu)[A-Za-z0-9/+=]{40,4096}",
      "A-Za-z0-9/+",
    ),
    token(
      "aws-bedrock-key",
      ["gitleaks:aws-amazon-bedrock-api-key-long-lived", "gitleaks:aws-amazon-bedrock-api-key-short-lived"],
      ["ABSK", "bedrock-api-key-"],
      "ABSK[A-Za-z0-9+/]{100,300}={0,2}|bedrock-api-key-[A-Za-z0-9+/=]{20,4096}",
      "A-Za-z0-9+/",
    ),

    // --- Source hosting, CI, package registries ---------------------------------------------------------
    token(
      "github-token",
      [
        "gitleaks:github-pat",
        "gitleaks:github-oauth",
        "gitleaks:github-app-token",
        "gitleaks:github-refresh-token",
        "gitleaks:github-fine-grained-pat",
        "secretlint:@secretlint/secretlint-rule-github",
      ],
      ["ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"],
      "gh[pousr]_[A-Za-z0-9]{30,255}|github_pat_[A-Za-z0-9_]{40,255}",
      "A-Za-z0-9_",
    ),
    token(
      "gitlab-token",
      [
        "gitleaks:gitlab-pat",
        "gitleaks:gitlab-pat-routable",
        "gitleaks:gitlab-deploy-token",
        "gitleaks:gitlab-runner-authentication-token",
        "gitleaks:gitlab-ptt",
        "gitleaks:gitlab-cicd-job-token",
        "gitleaks:gitlab-feed-token",
        "gitleaks:gitlab-incoming-mail-token",
        "gitleaks:gitlab-kubernetes-agent-token",
        "gitleaks:gitlab-oauth-app-secret",
        "gitleaks:gitlab-scim-token",
        "gitleaks:gitlab-feature-flag-client-token",
        "gitleaks:gitlab-rrt",
        "secretlint:@secretlint/secretlint-rule-gitlab",
      ],
      ["gl", "GR1348941"],
      "(?:glpat|gldt|glrt|glptt|glcbt|glft|glimt|glagent|gloas|glsoat|glffct)-[A-Za-z0-9_.-]{20,300}|GR1348941[A-Za-z0-9_-]{20,300}",
      "A-Za-z0-9_.-",
    ),
    token(
      "npm-token",
      ["gitleaks:npm-access-token", "secretlint:@secretlint/secretlint-rule-npm"],
      ["npm_"],
      "npm_[A-Za-z0-9]{36,255}",
      "A-Za-z0-9_",
    ),
    token("pypi-token", ["gitleaks:pypi-upload-token"], ["pypi-AgE"], "pypi-AgE[A-Za-z0-9_-]{50,1000}", "A-Za-z0-9_-"),
    token("rubygems-token", ["gitleaks:rubygems-api-token"], ["rubygems_"], "rubygems_[a-f0-9]{48}", "A-Za-z0-9_"),
    token("clojars-token", ["gitleaks:clojars-api-token"], ["CLOJARS_"], "CLOJARS_[A-Za-z0-9]{60}", "A-Za-z0-9_"),
    token(
      "artifactory-key",
      ["gitleaks:artifactory-api-key", "gitleaks:artifactory-reference-token"],
      ["AKCp", "cmVmd"],
      "AKCp[A-Za-z0-9]{69}|cmVmd[A-Za-z0-9]{59}",
    ),
    token(
      "docker-token",
      ["secretlint:@secretlint/secretlint-rule-docker"],
      ["dckr_pat_"],
      "dckr_pat_[A-Za-z0-9_-]{20,100}",
      "A-Za-z0-9_",
    ),

    // --- Chat and webhooks ------------------------------------------------------------------------------
    token(
      "slack-token",
      [
        "gitleaks:slack-bot-token",
        "gitleaks:slack-user-token",
        "gitleaks:slack-app-token",
        "gitleaks:slack-legacy-token",
        "gitleaks:slack-legacy-workspace-token",
        "gitleaks:slack-config-access-token",
        "gitleaks:slack-config-refresh-token",
        "secretlint:@secretlint/secretlint-rule-slack",
      ],
      ["xox", "xapp-"],
      "xox[abposer](?:\\.xox[bp])?-[A-Za-z0-9-]{8,300}|xapp-[0-9]-[A-Za-z0-9-]{8,300}",
      "A-Za-z0-9-",
    ),
    {
      kind: "telegram-bot-token",
      follows: ["gitleaks:telegram-bot-api-token"],
      anchors: [":A"],
      pattern: /(?<![0-9])[0-9]{5,16}:A[A-Za-z0-9_-]{34}(?![A-Za-z0-9_-])/g,
    },

    // --- Payments, e-mail, messaging APIs ---------------------------------------------------------------
    token(
      "stripe-key",
      ["gitleaks:stripe-access-token", "secretlint:@secretlint/secretlint-rule-stripe"],
      ["sk_", "rk_", "whsec_"],
      "(?:sk|rk)_(?:live|test|prod)_[A-Za-z0-9]{10,255}|whsec_[A-Za-z0-9]{24,255}",
      "A-Za-z0-9_",
    ),
    token(
      "square-token",
      ["gitleaks:square-access-token"],
      ["EAAA", "sq0atp-", "sq0csp-"],
      "(?:EAAA|sq0atp-|sq0csp-)[A-Za-z0-9_-]{22,100}",
      "A-Za-z0-9_-",
    ),
    token("facebook-token", ["gitleaks:facebook-page-access-token"], ["EAA"], "EAA[A-Za-z0-9]{100,400}"),
    token(
      "sendgrid-key",
      ["gitleaks:sendgrid-api-token", "secretlint:@secretlint/secretlint-rule-sendgrid"],
      ["SG."],
      "SG\\.[A-Za-z0-9_-]{16,32}\\.[A-Za-z0-9_-]{30,64}",
      "A-Za-z0-9_",
    ),
    token("brevo-key", ["gitleaks:sendinblue-api-token"], ["xkeysib-"], "xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    token(
      "mailgun-key",
      ["gitleaks:mailgun-private-api-token", "gitleaks:mailgun-pub-key"],
      ["key-"],
      "(?:pub)?key-[a-f0-9]{32}",
      "A-Za-z0-9_-",
    ),
    token("mailchimp-key", ["gitleaks:mailchimp-api-key"], ["-us"], "[a-f0-9]{32}-us[0-9]{1,2}"),
    token("twilio-key", ["gitleaks:twilio-api-key"], ["SK"], "SK[0-9a-fA-F]{32}(?![0-9a-fA-F])"),
    token("postman-key", ["gitleaks:postman-api-token"], ["PMAK-"], "PMAK-[a-f0-9]{24}-[a-f0-9]{34}", "A-Za-z0-9_-"),

    // --- Cloud providers and infrastructure -------------------------------------------------------------
    token(
      "google-api-key",
      ["gitleaks:gcp-api-key", "secretlint:@secretlint/secretlint-rule-gcp"],
      ["AIza"],
      "AIza[A-Za-z0-9_-]{35,40}",
      "A-Za-z0-9_-",
    ),
    token(
      "google-oauth",
      ["gitleaks:gcp-api-key (Google OAuth family)", "secretlint:@secretlint/secretlint-rule-gcp"],
      ["GOCSPX-", "ya29."],
      "GOCSPX-[A-Za-z0-9_-]{20,64}|ya29\\.[A-Za-z0-9_-]{20,2048}",
      "A-Za-z0-9_-",
    ),
    {
      kind: "azure-client-secret",
      follows: ["gitleaks:azure-ad-client-secret"],
      anchors: ["Q~"],
      pattern: /(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,40}/g,
    },
    token(
      "digitalocean-token",
      ["gitleaks:digitalocean-pat", "gitleaks:digitalocean-access-token", "gitleaks:digitalocean-refresh-token"],
      ["_v1_"],
      "do[opr]_v1_[a-f0-9]{64}",
      "A-Za-z0-9_",
    ),
    token("alibaba-key", ["gitleaks:alibaba-access-key-id"], ["LTAI"], "LTAI[A-Za-z0-9]{20}"),
    token(
      "cloudflare-key",
      ["gitleaks:cloudflare-origin-ca-key", "secretlint:@secretlint/secretlint-rule-cloudflare"],
      ["v1.0-"],
      "v1\\.0-[a-f0-9]{24}-[a-f0-9]{146}",
    ),
    token(
      "flyio-token",
      ["gitleaks:flyio-access-token"],
      ["fo1_", "fm1", "fm2_"],
      "fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,2048}={0,3}",
      "A-Za-z0-9_",
    ),
    token("heroku-key", ["gitleaks:heroku-api-key-v2"], ["HRKU-"], "HRKU-AA[A-Za-z0-9_-]{58}", "A-Za-z0-9_-"),
    token(
      "vault-token",
      [
        "gitleaks:vault-service-token",
        "gitleaks:vault-batch-token",
        "secretlint:@secretlint/secretlint-rule-hashicorp-vault",
      ],
      ["hvs.", "hvb."],
      "hv[sb]\\.[A-Za-z0-9_-]{24,400}",
      "A-Za-z0-9_.",
    ),
    token(
      "terraform-token",
      ["gitleaks:hashicorp-tf-api-token"],
      [".atlasv1."],
      "[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_=-]{60,70}",
    ),
    token("pulumi-token", ["gitleaks:pulumi-api-token"], ["pul-"], "pul-[a-f0-9]{40}", "A-Za-z0-9_-"),
    token(
      "doppler-token",
      ["gitleaks:doppler-api-token"],
      ["dp."],
      "dp\\.(?:pt|st|ct|sa|scim|audit)\\.[A-Za-z0-9]{40,44}",
      "A-Za-z0-9_.",
    ),
    token(
      "databricks-token",
      ["gitleaks:databricks-api-token", "secretlint:@secretlint/secretlint-rule-databricks"],
      ["dapi"],
      "dapi[a-f0-9]{32}(?:-[0-9])?",
    ),
    token(
      "planetscale-token",
      ["gitleaks:planetscale-api-token", "gitleaks:planetscale-oauth-token", "gitleaks:planetscale-password"],
      ["pscale_"],
      "pscale_(?:tkn|oauth|pw)_[A-Za-z0-9_.=-]{32,64}",
      "A-Za-z0-9_",
    ),
    token("openshift-token", ["gitleaks:openshift-user-token"], ["sha256~"], "sha256~[A-Za-z0-9_-]{43}"),
    token(
      "shopify-token",
      [
        "gitleaks:shopify-access-token",
        "gitleaks:shopify-custom-access-token",
        "gitleaks:shopify-private-app-access-token",
        "gitleaks:shopify-shared-secret",
        "secretlint:@secretlint/secretlint-rule-shopify",
      ],
      ["shp"],
      "shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}",
      "A-Za-z0-9_",
    ),

    // --- Observability and SaaS -------------------------------------------------------------------------
    token(
      "grafana-token",
      [
        "gitleaks:grafana-api-key",
        "gitleaks:grafana-cloud-api-token",
        "gitleaks:grafana-service-account-token",
        "secretlint:@secretlint/secretlint-rule-grafana",
      ],
      ["glc_", "glsa_", "eyJrIjoi"],
      "glc_[A-Za-z0-9+/]{32,400}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|eyJrIjoi[A-Za-z0-9]{70,400}={0,3}",
      "A-Za-z0-9_",
    ),
    token(
      "new-relic-key",
      ["gitleaks:new-relic-user-api-key", "gitleaks:new-relic-insert-key", "gitleaks:new-relic-browser-api-token"],
      ["NRAK-", "NRII-", "NRJS-"],
      "NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9-]{32}|NRJS-[a-f0-9]{19}",
      "A-Za-z0-9_-",
    ),
    token(
      "sentry-token",
      ["gitleaks:sentry-org-token", "gitleaks:sentry-user-token"],
      ["sntrys_", "sntryu_"],
      "sntrys_eyJ[A-Za-z0-9+/=_]{50,400}|sntryu_[a-f0-9]{64}",
      "A-Za-z0-9_",
    ),
    token(
      "dynatrace-token",
      ["gitleaks:dynatrace-api-token"],
      ["dt0c01."],
      "dt0c01\\.[A-Za-z0-9]{24}\\.[A-Za-z0-9]{64}",
    ),
    token(
      "linear-key",
      ["gitleaks:linear-api-key", "secretlint:@secretlint/secretlint-rule-linear"],
      ["lin_api_"],
      "lin_api_[A-Za-z0-9_]{32,128}",
      "A-Za-z0-9_",
    ),
    token(
      "notion-token",
      ["gitleaks:notion-api-token", "secretlint:@secretlint/secretlint-rule-notion"],
      ["ntn_", "secret_"],
      "ntn_[0-9]{11}[A-Za-z0-9]{32,40}|secret_[A-Za-z0-9]{43}",
      "A-Za-z0-9_",
    ),
    token(
      "huggingface-token",
      [
        "gitleaks:huggingface-access-token",
        "gitleaks:huggingface-organization-api-token",
        "secretlint:@secretlint/secretlint-rule-huggingface",
      ],
      ["hf_", "api_org_"],
      "hf_[A-Za-z]{34,40}|api_org_[A-Za-z]{34,40}",
      "A-Za-z0-9_",
    ),
    token(
      "1password-token",
      [
        "gitleaks:1password-service-account-token",
        "gitleaks:1password-secret-key",
        "secretlint:@secretlint/secretlint-rule-1password",
      ],
      ["ops_eyJ", "A3-"],
      "ops_eyJ[A-Za-z0-9+/]{250,4096}={0,3}|A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
      "A-Za-z0-9_",
    ),
    token("age-secret-key", ["gitleaks:age-secret-key"], ["AGE-SECRET-KEY-1"], "AGE-SECRET-KEY-1[0-9A-Z]{58}"),

    // --- AI APIs ----------------------------------------------------------------------------------------
    token(
      "anthropic-key",
      [
        "gitleaks:anthropic-api-key",
        "gitleaks:anthropic-admin-api-key",
        "secretlint:@secretlint/secretlint-rule-anthropic",
      ],
      ["sk-ant-"],
      "sk-ant-[a-z]{2,8}[0-9]{2}-[A-Za-z0-9_-]{80,300}",
      "A-Za-z0-9_-",
    ),
    token(
      "openai-key",
      ["gitleaks:openai-api-key", "secretlint:@secretlint/secretlint-rule-openai"],
      ["T3BlbkFJ", "sk-proj-", "sk-svcacct-", "sk-admin-"],
      "sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,300}T3BlbkFJ[A-Za-z0-9_-]{20,300}|sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,300}",
      "A-Za-z0-9_-",
    ),
    token("groq-key", ["secretlint:@secretlint/secretlint-rule-groq"], ["gsk_"], "gsk_[A-Za-z0-9]{52}", "A-Za-z0-9_"),
    token("perplexity-key", ["gitleaks:perplexity-api-key"], ["pplx-"], "pplx-[A-Za-z0-9]{48}", "A-Za-z0-9_-"),

    // --- Tokens of any issuer ---------------------------------------------------------------------------
    token(
      "jwt",
      ["gitleaks:jwt"],
      ["eyJ"],
      "eyJ[A-Za-z0-9_-]{10,}\\.ey[A-Za-z0-9_-]{10,}(?:\\.[A-Za-z0-9_-]*){0,3}",
      "A-Za-z0-9_-",
    ),

    // --- Context: headers, pairs, flags -----------------------------------------------------------------
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

function applyRule(text: string, rule: RedactionRule, lower: () => string): string {
  if (rule.anchors && !rule.anchors.some((anchor) => text.includes(anchor))) return text;
  if (rule.requires && !rule.requires.every((literal) => text.includes(literal))) return text;
  if (rule.lowerAnchors && !rule.lowerAnchors.some((anchor) => lower().includes(anchor))) return text;
  rule.pattern.lastIndex = 0;
  return text.replace(rule.pattern, (...args: unknown[]) => {
    const match = args[0] as string;
    const last = args.at(-1);
    const groups = (typeof last === "object" && last !== null ? last : {}) as Record<string, string | undefined>;
    if (rule.replace) return rule.replace(match, groups);
    return `${groups.pre ?? ""}${mask(rule.kind)}${groups.post ?? ""}`;
  });
}

/** Masks what the built-in rule set and the registered secrets (the API key) catch in `text`. */
export function redactBuiltIn(text: string): string {
  let out = hasRegisteredSecrets() ? scrubSecrets(text) : text;
  // The lower-case text for the pre-checks, computed once per change of the text.
  let lowerOf = "";
  let lowered: string | undefined;
  const lower = () => {
    if (lowered === undefined || lowerOf !== out) {
      lowerOf = out;
      lowered = out.toLowerCase();
    }
    return lowered;
  };
  for (const rule of redactionRules()) out = applyRule(out, rule, lower);
  return out;
}

/**
 * Compiles one user `redact` pattern on the log rules' engine (RE2 semantics, linear time on any line): the
 * one place user patterns are compiled. An already compiled expression (built-in callers) is used with `g`.
 */
export function compileRedactPattern(pattern: string | RegExp): UserPattern | RegExp {
  if (typeof pattern === "string") return compileUserPattern(pattern);
  return pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
}

/**
 * Builds a redactor: the built-in rules, then `extraPatterns` (user regexes; each whole match becomes
 * {@link USER_PATTERN_MASK}).
 *
 * @param extraPatterns - user patterns as strings (compiled with the same safety rules as log rule patterns)
 *   or already compiled expressions (used with the `g` flag).
 * @throws `UserRegExpError` when a string pattern cannot be used.
 */
export function createRedactor(extraPatterns: readonly (string | RegExp)[] = []): Redactor {
  const extra = extraPatterns.map(compileRedactPattern);
  if (extra.length === 0) return redactBuiltIn;
  return (text) => {
    let out = redactBuiltIn(text);
    for (const re of extra) out = out.replace(re, USER_PATTERN_MASK);
    return out;
  };
}

/**
 * How far past the shown part {@link redactShown} redacts. Longer than the shortest text any rule needs
 * to recognise a secret (the longest minimum is under 300 characters), so a secret that starts in the shown
 * part is matched even when the window ends inside it (rules with a maximum match a prefix; a private key
 * block without its END line is masked to the end).
 */
export const REDACT_MARGIN_CHARS = 16 * 1024;

/**
 * The raw index at which `text` has shown `visible` characters when every whitespace run counts as one
 * (how excerpts and samples are shown; a lower bound of what they show, so the window is never short).
 */
function shownEnd(text: string, visible: number): number {
  let shown = 0;
  let inSpace = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const space = c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0xfeff || c === 0x2028 || c === 0x2029;
    if (space && inSpace) continue;
    inSpace = space;
    if (++shown >= visible) return i + 1;
  }
  return text.length;
}

/**
 * Redacts what can be shown of `text` when at most `visible` characters of it are kept (whitespace runs
 * counting as one), and {@link REDACT_MARGIN_CHARS} beyond: redaction happens before the caller cuts, and
 * costs are bounded by what is shown, not by a 1 MiB body or a 256 KiB line. Text past the window is
 * dropped (the caller cuts there anyway), so the result may be shorter than `text` but is never cut
 * inside what is shown.
 */
export function redactShown(text: string, visible: number, redactor: Redactor = redactBuiltIn): string {
  let end = Math.min(text.length, shownEnd(text, visible) + REDACT_MARGIN_CHARS);
  const last = text.charCodeAt(end - 1);
  if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--; // keep surrogate pairs whole
  return redactor(end < text.length ? text.slice(0, end) : text);
}

/** Error text (a thrown or logged message): redacted, on one line, at most `max` characters. */
export function redactMessage(text: string, max = 500): string {
  const line = redactShown(text, max).replace(/\s+/g, " ").trim();
  if (line.length <= max) return line;
  let cut = max - 1;
  const unit = line.charCodeAt(cut - 1);
  if (unit >= 0xd800 && unit <= 0xdbff) cut--;
  return `${line.slice(0, cut)}…`;
}
