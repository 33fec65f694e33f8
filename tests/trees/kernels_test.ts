import { jsTrees } from "../../src/backends/js/trees.ts";
import { registerConformance } from "./_kernel_conformance.ts";

registerConformance(jsTrees);
