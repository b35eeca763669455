/**
 * `node --import tsx bench/sse-clients.ts <url> <count>`: opens `count` event streams on
 * `<url>/v1/events` and reads them, in a process of its own so that their reading does not
 * delay the process that measures latency. Prints `ready` once all are open; prints the bytes
 * the slowest stream received on each line read from stdin; exits when stdin closes.
 */
import { Agent, get } from 'node:http';
import { createInterface } from 'node:readline';

const [url = '', countText = '0'] = process.argv.slice(2);
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
const received: number[] = [];

function follow(index: number): Promise<void> {
  received[index] = 0;
  return new Promise((resolve, reject) => {
    const request = get(new URL('/v1/events', url), { agent }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`GET /v1/events: ${response.statusCode}`));
        return;
      }
      response.on('data', (chunk: Buffer) => {
        received[index] = (received[index] ?? 0) + chunk.length;
      });
      // The server ends the streams when it stops.
      response.on('error', () => {});
      resolve();
    });
    request.on('error', reject);
  });
}

const count = Number(countText);
for (let i = 0; i < count; i += 100) {
  await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, k) => follow(i + k)));
}
console.log('ready');
createInterface({ input: process.stdin })
  .on('line', () => console.log(String(Math.min(...received))))
  .on('close', () => process.exit(0));
