/**
 * The j1 grading provider as a module whose default export is the provider class, for promptfoo's
 * `file://` providers (`id: file://node_modules/j1-judge/dist/src/integrations/promptfoo-provider.js`), which
 * instantiate a module's default export. `package:j1-judge/promptfoo:J1GraderProvider` is the same class.
 */
import { J1GraderProvider } from "./promptfoo.js";

export default J1GraderProvider;
