/** Regenerates the generated pages of docs/: `npm run docs`. */
import { writeFileSync } from 'node:fs';
import { createProgram } from '../src/cli/program.js';
import { machinesDocument } from '../src/diagram/index.js';
import { cliReference, configurationReference } from './reference.js';

const write = (page: string, text: string) =>
  writeFileSync(new URL(`../docs/${page}`, import.meta.url), text);

write('machines.md', machinesDocument());
write('configuration.md', configurationReference());
write('cli-reference.md', cliReference(createProgram(() => {}, 'none')));
