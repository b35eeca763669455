import { createRequire } from 'node:module';

// yaml is required when a YAML policy is first read, not imported at the top, so that
// `import 'wyneos'` does not load it for a service that builds its policy in code. require keeps
// the callers synchronous (yaml ships a CommonJS build), which an import() could not.
const require = createRequire(import.meta.url);
let yaml: typeof import('yaml') | undefined;

/** The yaml package, loaded on first use. */
export function yamlParser(): typeof import('yaml') {
  yaml ??= require('yaml') as typeof import('yaml');
  return yaml;
}
