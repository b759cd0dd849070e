/**
 * Excerpts for check messages (HTTP body excerpts, Logs Insights rows), redacted with the module's one
 * redactor (functions/shared/redact.ts) before they leave the account.
 */
import { createRedactor } from "../shared/redact.js";

/** Returns `text` with secrets and personal data masked. */
export const redact = createRedactor();

/** A one-line, redacted excerpt of at most `max` characters (whitespace collapsed), for messages. */
export function excerpt(text: string, max = 200): string {
  // Redact a bounded window only: the patterns stay cheap on a 1 MiB body, and what lies beyond the
  // window is cut anyway.
  const line = redact(text.slice(0, max * 4))
    .replace(/\s+/g, " ")
    .trim();
  if (line.length <= max) return line;
  // Do not split a surrogate pair.
  let cut = max - 1;
  const unit = line.charCodeAt(cut - 1);
  if (unit >= 0xd800 && unit <= 0xdbff) cut--;
  return `${line.slice(0, cut)}…`;
}
