// Starts GOV.UK Frontend's components (a module script, so no inline script is needed).
import { initAll } from "../govuk/govuk-frontend.min.js";

document.body.classList.add("js-enabled", "govuk-frontend-supported");
initAll();
