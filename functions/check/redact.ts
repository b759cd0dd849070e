/**
 * Excerpts for check messages (HTTP body excerpts, Logs Insights rows), redacted with the module's one
 * rule set (functions/shared/redact.ts) before they leave the account.
 */
import { redactBuiltIn, redactMessage } from "../shared/redact.js";

/** Returns `text` with secrets and personal data masked. */
export const redact = redactBuiltIn;

/**
 * A one-line, redacted excerpt of at most `max` characters (whitespace collapsed), for messages.
 *
 * Redaction comes first, on everything that can be shown and a margin beyond it; only then is whitespace
 * collapsed and the line cut. (Cutting first can leave half a secret that no pattern recognises any more:
 * `<html>` + 1,184 spaces + an AWS key id cut to `AKIAIOSFOD`.)
 */
export function excerpt(text: string, max = 200): string {
  return redactMessage(text, max);
}
