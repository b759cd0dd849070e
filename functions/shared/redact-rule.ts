/**
 * The shape of a built-in redaction rule and the helpers the rule tables share (./redact-*-rules.ts).
 */

/** The mask of a secret of `kind`. */
export function mask(kind: string): string {
  return `[REDACTED:${kind}]`;
}

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
export function token(
  kind: string,
  follows: readonly string[],
  anchors: readonly string[],
  body: string,
  boundary = "A-Za-z0-9",
): RedactionRule {
  return { kind, follows, anchors, pattern: new RegExp(`(?<![${boundary}])(?:${body})`, "g") };
}
