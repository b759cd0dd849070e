/**
 * The CDKTF app that synthesizes the Terraform module `modules/mackerel-serverless` (run by
 * `npm run build`, after the function zips are built).
 */
import { writeModules } from "./scripts/lib/module-writer";

writeModules();
