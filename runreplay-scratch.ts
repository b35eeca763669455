import { replay } from './bench/scenarios/replay.js';
const r = await replay();
console.log(r.ratio, r.figures[0]?.label);
