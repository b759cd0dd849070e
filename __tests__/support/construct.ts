/**
 * Shared set-up of the construct suites: the MackerelServerless construct in a user's stack (an AWS
 * provider in eu-west-1, placeholder zips), as a CDKTF user writes it, and its synthesized JSON.
 */
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, Testing } from "cdktf";
import { MackerelServerless, type MackerelServerlessProps } from "../../modules/construct";
import { inlineLocals } from "./locals";

/** Synthesized Terraform JSON, read loosely by the assertions. */
export type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Zips that only need to be named: suites that synthesize never read them. */
export const placeholderCode: NonNullable<MackerelServerlessProps["code"]> = (fn) => ({
  filename: `build/${fn}.zip`,
  sourceCodeHash: `hash-of-${fn}`,
});

/** `props` (on placeholder code unless given) in a new stack named `stackName`. */
export function userStack(
  props: MackerelServerlessProps,
  stackName = "user-stack",
): { stack: TerraformStack; construct: MackerelServerless } {
  const stack = new TerraformStack(Testing.app(), stackName);
  new AwsProvider(stack, "aws", { region: "eu-west-1" });
  const construct = new MackerelServerless(stack, "mackerel", { code: placeholderCode, ...props });
  return { stack, construct };
}

/** A stack's synthesized JSON with the module's locals written back inline, as the assertions read it. */
export function synthesized(stack: TerraformStack): Json {
  return inlineLocals(JSON.parse(Testing.synth(stack)) as Json);
}

/** The synthesized JSON of {@link userStack}. */
export function synthUserStack(props: MackerelServerlessProps, stackName?: string): Json {
  return synthesized(userStack(props, stackName).stack);
}
