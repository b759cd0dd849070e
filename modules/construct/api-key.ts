/**
 * What every Mackerel-writing function's role needs to read the API key, computed once as locals:
 * `local.api_key_secret_resource` (the secret, or `<arn>-??????` for a partial ARN),
 * `local.api_key_secret_region` (Secrets Manager decrypts with the key in the secret's own region) and
 * `local.api_key_decrypt_statements` (`local.api_key_decrypt_statement`, kms:Decrypt on the given key, or none).
 */
import { Fn, type IResolvable, Token } from "cdktf";
import type { Construct } from "constructs";
import { secretResource } from "./aws-location";
import { isNullOrEmpty, namedLocal } from "./context";
import type { PolicyStatement } from "./module-function";

export interface ApiKeyAccess {
  /** secretsmanager:GetSecretValue on the API key secret. */
  readSecret: PolicyStatement;
  /** kms:Decrypt on the secret's key, only when one is given (a Terraform list expression). */
  decryptSecret: IResolvable | undefined;
}

/** Declares the API key locals in `scope`; literal ARNs (CDKTF users) are used as they are. */
export function apiKeyAccess(scope: Construct, secretArn: string, kmsKeyArn: string | undefined): ApiKeyAccess {
  const computed = (name: string, value: string): string =>
    Token.isUnresolved(value) ? namedLocal(scope, name, value).asString : value;
  const resource = computed("api_key_secret_resource", secretResource(secretArn));
  const readSecret: PolicyStatement = {
    Sid: "ReadMackerelApiKey",
    Effect: "Allow",
    Action: ["secretsmanager:GetSecretValue"],
    Resource: resource,
  };
  if (kmsKeyArn === undefined) return { readSecret, decryptSecret: undefined };
  const region = computed("api_key_secret_region", Token.asString(Fn.element(Fn.split(":", secretArn), 3)));
  const statement = namedLocal(scope, "api_key_decrypt_statement", {
    Sid: "DecryptMackerelApiKey",
    Effect: "Allow",
    Action: ["kms:Decrypt"],
    Resource: kmsKeyArn,
    // Only when Secrets Manager asks on the function's behalf.
    Condition: { StringEquals: { "kms:ViaService": Fn.format("secretsmanager.%s.amazonaws.com", [region]) } },
  });
  const statements = Fn.conditional(isNullOrEmpty(kmsKeyArn), [], [statement.expression]);
  const decryptSecret = namedLocal(scope, "api_key_decrypt_statements", statements).expression as IResolvable;
  return { readSecret, decryptSecret };
}
