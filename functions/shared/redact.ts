/**
 * Redaction of what leaves the account in a Mackerel check report: sample log lines, HTTP body excerpts,
 * Logs Insights rows.
 *
 * The built-in patterns err on the side of redacting: a false positive costs a less useful sample, a false
 * negative leaks a credential into a third-party service. Each keeps the context (the key name, the auth
 * scheme) and replaces only the secret with {@link REDACTED}, so a reader still sees what was there.
 *
 * Every built-in pattern is anchored on something rare (a key word, `@`, `AKIA`) or starts only at a word
 * boundary (a lookbehind), so none scans a long line quadratically.
 */
import { compileUserPattern } from "./user-regexp.js";

/** What replaces a secret. */
export const REDACTED = "[REDACTED]";

/** A function that returns `line` with secrets replaced by {@link REDACTED}. */
export type Redactor = (line: string) => string;

/** AWS access key ids (long-term `AKIA`, temporary `ASIA`): 20 upper-case letters and digits. */
const AWS_ACCESS_KEY_ID = /(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])/g;

/** An `Authorization` header or field, with or without an auth scheme: keep the scheme, redact the credentials. */
const AUTHORIZATION =
  /(authorization\\?["']?[ \t]*[:=][ \t]*\\?["']?)(?:(bearer|basic|digest|negotiate|token)[ \t]+)?([^\s"'\\,;]+)/gi;

/** A `Cookie`/`Set-Cookie` header: every cookie in it may be a session credential, so the whole value goes. */
const COOKIE = /((?:set-)?cookie\\?["']?[ \t]*:[ \t]*\\?["']?)([^\r\n"'\\]+)/gi;

/** `bearer <token>` anywhere (tokens are at least 8 characters, so prose such as "bearer of" is kept). */
const BEARER = /\b(bearer)[ \t]+[A-Za-z0-9._~+/-]{8,}=*/gi;

/**
 * `key=value`, `key: value`, `"key": "value"` (also inside escaped JSON: `\"key\":\"value\"`) for keys that END
 * with a secret-ish word: `password`, `db_password`, `clientSecret`, `access_token`, `X-Api-Key`,
 * `aws_secret_access_key`... Keys that merely contain one (`max_tokens=`, `token_count=`) are kept.
 */
const SECRET_PAIR = new RegExp(
  String.raw`((?<![A-Za-z0-9_.-])[A-Za-z0-9_.-]*?` +
    String.raw`(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)` +
    String.raw`\\?["']?[ \t]*[:=][ \t]*)` +
    String.raw`(?:"((?:[^"\\\n]|\\.)+)"|\\"((?:[^\\\n]|\\[^"])+)\\"|'([^'\n]+)'|([^\s"'\\,;&(){}\[\]]+))`,
  "gi",
);

/**
 * A 40-character base64 value (the shape of an AWS secret access key) after a key-ish word, with any
 * separator: `secret key wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`. Only values with both letter cases or
 * a `/`/`+` count, so 40-character hex digests (git commits, SHA-1) are kept.
 */
const SECRET_AFTER_KEYWORD =
  /((?:secret|key|credentials?)\\?["']?[\s:="']{1,4})([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi;

/** JSON Web Tokens: three base64url parts, the first starting `eyJ` (`{"`). */
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;

/** Credentials in URLs: `scheme://user:password@host` keeps the scheme and host. */
const URL_CREDENTIALS = /(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/\s:@]+:[^/\s@]+@/g;

/** E-mail addresses; the last label must start with a letter, so `package@1.2.3` is kept. */
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z][A-Za-z0-9-]*/g;

const looksLikeSecret = (value: string): boolean => /[/+]/.test(value) || (/[A-Z]/.test(value) && /[a-z]/.test(value));

/**
 * Builds a redactor: the built-in patterns, then `extraPatterns` (user regexes; each whole match is replaced).
 *
 * @param extraPatterns - user patterns as strings (compiled with the same safety rules as log rule patterns)
 *   or already compiled expressions (used with the `g` flag).
 * @throws `UserRegExpError` when a string pattern cannot be used.
 */
export function createRedactor(extraPatterns: readonly (string | RegExp)[] = []): Redactor {
  const extra = extraPatterns.map((p) =>
    typeof p === "string" ? compileUserPattern(p) : p.global ? p : new RegExp(p.source, `${p.flags}g`),
  );
  return (line) => {
    let out = line
      .replace(AWS_ACCESS_KEY_ID, REDACTED)
      .replace(JWT, REDACTED)
      .replace(URL_CREDENTIALS, (_m, scheme: string) => `${scheme}${REDACTED}@`)
      .replace(AUTHORIZATION, (_m, prefix: string, scheme: string | undefined) =>
        scheme ? `${prefix}${scheme} ${REDACTED}` : `${prefix}${REDACTED}`,
      )
      .replace(COOKIE, (_m, prefix: string) => `${prefix}${REDACTED}`)
      .replace(BEARER, (_m, word: string) => `${word} ${REDACTED}`)
      .replace(SECRET_PAIR, (_m, key: string, dq?: string, edq?: string, sq?: string) => {
        if (dq !== undefined) return `${key}"${REDACTED}"`;
        if (edq !== undefined) return `${key}\\"${REDACTED}\\"`;
        if (sq !== undefined) return `${key}'${REDACTED}'`;
        // Unquoted. A value an earlier pattern redacted starts with `[`, which this one does not match again.
        return `${key}${REDACTED}`;
      })
      .replace(SECRET_AFTER_KEYWORD, (m, prefix: string, value: string) =>
        looksLikeSecret(value) ? `${prefix}${REDACTED}` : m,
      )
      .replace(EMAIL, REDACTED);
    for (const re of extra) out = out.replace(re, REDACTED);
    return out;
  };
}
