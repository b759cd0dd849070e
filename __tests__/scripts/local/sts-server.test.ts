/**
 * The local STS stand-in the terraform harness points the AWS provider at: GetCallerIdentity in the
 * query protocol with an XML answer (the account from the access key id), STS's XML errors otherwise.
 */
import { localStsUrl } from "../../../scripts/lib/terraform";

const SIGNED = (accessKeyId: string) => ({
  authorization: `AWS4-HMAC-SHA256 Credential=${accessKeyId}/20261201/ap-northeast-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00`,
  "content-type": "application/x-www-form-urlencoded; charset=utf-8",
});

async function post(body: string, headers: Record<string, string>) {
  const response = await fetch(localStsUrl(), { method: "POST", body, headers });
  return { status: response.status, type: response.headers.get("content-type"), text: await response.text() };
}

test("GetCallerIdentity answers with the account that ends the access key id", async () => {
  const answer = await post("Action=GetCallerIdentity&Version=2011-06-15", SIGNED("AKIDOFFLINE210987654321"));
  expect(answer.status).toBe(200);
  expect(answer.type).toBe("text/xml");
  expect(answer.text).toContain("<Account>210987654321</Account>");
  expect(answer.text).toContain("<Arn>arn:aws:iam::210987654321:user/offline</Arn>");
});

test.each([
  ["an unsigned request", "Action=GetCallerIdentity&Version=2011-06-15", {}, 403, "MissingAuthenticationToken"],
  ["another action", "Action=AssumeRole&Version=2011-06-15", SIGNED("AKIDOFFLINE123456789012"), 400, "InvalidAction"],
  [
    "another version",
    "Action=GetCallerIdentity&Version=2010-01-01",
    SIGNED("AKIDOFFLINE123456789012"),
    400,
    "InvalidAction",
  ],
  [
    "a key without an account",
    "Action=GetCallerIdentity&Version=2011-06-15",
    SIGNED("AKIDOFFLINE"),
    403,
    "InvalidClientTokenId",
  ],
])("%s gets STS's XML error", async (_what, body, headers, status, code) => {
  const answer = await post(body, headers as Record<string, string>);
  expect(answer.status).toBe(status);
  expect(answer.text).toContain(`<Code>${code}</Code>`);
});
