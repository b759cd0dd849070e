/**
 * A local stand-in for AWS STS's GetCallerIdentity (query protocol, XML answer), so that terraform's
 * AWS provider learns its account the way it does against AWS when it plans offline.
 *
 * Run as its own process (terraform runs while the test's own event loop is blocked in spawnSync):
 * `node sts-server.mjs <port-file>` listens on 127.0.0.1, writes its port to <port-file>, and exits when
 * its stdin closes (its parent is gone). The account is the 12 digits that end the request's access key
 * id (`AKIDOFFLINE123456789012`), so one server answers for workspaces of any account.
 *
 * As strict as the documentation: POST, a SigV4 Authorization header for service `sts`, a form body
 * with Action=GetCallerIdentity and Version=2011-06-15; anything else gets STS's XML error.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";

const NS = "https://sts.amazonaws.com/doc/2011-06-15/";

function errorXml(code, message) {
  return `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>`;
}

function answer(res, status, body) {
  res.writeHead(status, { "content-type": "text/xml", "x-amzn-requestid": "00000000-0000-0000-0000-000000000000" });
  res.end(body);
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (chunk) => chunks.push(chunk));
  req.on("end", () => {
    const auth = String(req.headers.authorization ?? "");
    const credential = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/\d{8}\/[a-z0-9-]+\/sts\/aws4_request,/.exec(auth);
    if (req.method !== "POST" || !credential) {
      answer(res, 403, errorXml("MissingAuthenticationToken", "Request is missing a SigV4 signature for sts."));
      return;
    }
    const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
    if (form.get("Action") !== "GetCallerIdentity" || form.get("Version") !== "2011-06-15") {
      answer(
        res,
        400,
        errorXml("InvalidAction", `Could not find operation ${form.get("Action")} for version ${form.get("Version")}.`),
      );
      return;
    }
    const account = /([0-9]{12})$/.exec(credential[1])?.[1];
    if (!account) {
      answer(res, 403, errorXml("InvalidClientTokenId", "The security token included in the request is invalid."));
      return;
    }
    answer(
      res,
      200,
      `<GetCallerIdentityResponse xmlns="${NS}"><GetCallerIdentityResult><Arn>arn:aws:iam::${account}:user/offline</Arn><UserId>AIDAOFFLINE${account}</UserId><Account>${account}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    );
  });
});

server.listen(0, "127.0.0.1", () => {
  writeFileSync(process.argv[2], String(server.address().port));
});
process.stdin.on("end", () => process.exit(0));
process.stdin.on("error", () => process.exit(0));
process.stdin.resume();
