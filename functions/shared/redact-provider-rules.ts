/**
 * Built-in redaction rules, part 2 of 3: provider tokens by their documented prefixes (AWS, source hosting,
 * chat, payments, cloud providers, observability, AI APIs, JWTs). The order within is the order of
 * application (see {@link redactionRules} in ./redact.ts).
 */
import { mask, type RedactionRule, token } from "./redact-rule.js";

/** Provider token rules, in the order they apply. */
export function providerTokenRules(): RedactionRule[] {
  return [
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
  ];
}
