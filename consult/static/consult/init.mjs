// Loaded at the end of <body> with
//   <script type="module" src="{% static 'consult/init.mjs' %}"></script>
// No inline scripts (strict CSP). Only browsers that run type="module" get
// here, which is exactly GOV.UK Frontend 5's support test.
// Resolves /static/consult/init.mjs -> /static/govuk/govuk-frontend.min.js
import { initAll } from "../govuk/govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported", "js-enabled");
initAll();
