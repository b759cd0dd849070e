/** Prints whether the terraform-backed tests can run here, and with what (CI shows it before the tests). */
import { terraformAvailability } from "./lib/terraform";

const availability = terraformAvailability();
if (availability.ok) {
  console.log(
    `terraform ${availability.version} with the provider mirror at ${availability.mirror}: terraform tests WILL RUN`,
  );
} else {
  console.log(`*** terraform tests will be SKIPPED: ${availability.reason} ***`);
}
