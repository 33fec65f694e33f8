// Browser test of the built bundle in Firefox (Debian's firefox-esr, headless, started as a user
// starts it: tests/_firefox.mjs), the suite of _engine_suite.mjs: Firefox 153 ESR picks the
// relaxed-SIMD build, Firefox 140 ESR the plain one (as Safari runs it); an isolated page shares
// memory.
import { engineSuite } from "./_engine_suite.mjs";
import { firefoxMissing, resultFromFirefox } from "../_firefox.mjs";

await engineSuite({
  name: "firefox",
  missing: firefoxMissing(),
  resultFrom: resultFromFirefox,
  userAgent: /Firefox\//,
});
