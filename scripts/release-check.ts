/**
 * `npm run release:check` (after `npm run build`): the version, CHANGELOG.md, the README's `?ref=`, the
 * committed modules and the tag `v<version>` (when it exists) agree (scripts/lib/release.ts). Then tag the
 * release commit `v<version>`: Terraform users pin `source = "git::...//modules/mackerel-serverless?ref=v<version>"`.
 */
import { ROOT } from "./lib/bundle";
import { checkRelease } from "./lib/release";

const result = checkRelease(ROOT);
if (result.problems.length > 0) {
  console.error(`release check failed for ${result.tag}:\n- ${result.problems.join("\n- ")}`);
  process.exit(1);
}
console.log(
  result.tagged
    ? `release check passed: ${result.tag} is tagged and holds these modules`
    : `release check passed: tag this commit ${result.tag} (git tag ${result.tag} && git push origin ${result.tag})`,
);
