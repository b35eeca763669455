/** Regenerates docs/machines.md from the machine definitions: `npm run docs:machines`. */
import { writeFileSync } from 'node:fs';
import { machinesDocument } from '../src/diagram/index.js';

writeFileSync(new URL('../docs/machines.md', import.meta.url), machinesDocument());
