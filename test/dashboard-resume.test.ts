import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { operatorToken } from 'wyneos/http';
import { createServer } from '../src/http/index.js';
import { cellColour, launchBrowser, pollPage } from './browser.js';
import { httpFleet, silentLogger, testSecret } from './helpers.js';

// The dashboard in headless Chromium against an in-process server: its event stream is cut,
// and it must resume without reading the fleet again; after a restart of the server (another
// incarnation of the stream) it must read it again.

let browser: Browser;
beforeAll(async () => {
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
});

describe('dashboard (resuming the event stream)', () => {
  it('resumes after a lost connection without reading the fleet again, and reads it again after a reset', async () => {
    const fleet = await httpFleet();
    const { sup, clock } = fleet;
    for (const id of ['n1', 'n2', 'n3']) sup.register({ id });
    const url = await fleet.app.listen({ host: '127.0.0.1', port: 0 });
    let restarted: Awaited<ReturnType<typeof createServer>> | undefined;
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const snapshots: string[] = [];
    const streams: Array<string | undefined> = [];
    page.on('request', (request) => {
      if (request.url().includes('/v1/nodes?')) snapshots.push(request.url());
      if (request.url().endsWith('/v1/events')) streams.push(request.headers()['last-event-id']);
    });
    try {
      await page.goto(`${url}/?token=${operatorToken(Buffer.from(testSecret))}`);
      await pollPage(
        () => cellColour(page, 'n1'),
        (c) => c === 'online',
        'n1 drawn',
      );
      expect(snapshots).toHaveLength(1);
      sup.isolate('n1', 'seen live');
      await pollPage(
        () => cellColour(page, 'n1'),
        (c) => c === 'isolated',
        'n1 isolated',
      );

      // The connection is cut; what happens meanwhile arrives when the page comes back.
      fleet.app.server.closeAllConnections();
      sup.isolate('n2', 'while the page was away');
      await pollPage(
        () => cellColour(page, 'n2'),
        (c) => c === 'isolated',
        'n2 isolated',
      );
      expect(streams).toHaveLength(2);
      expect(streams[0]).toBeUndefined();
      expect(streams[1]).toMatch(/^[0-9a-f]+-\d+$/);
      expect(snapshots).toHaveLength(1);

      // A new server (a restart): the page's id means nothing to it, so it is told to reset,
      // and reads the fleet again, with what changed while no server was there.
      const { port } = new URL(url);
      await fleet.app.close();
      sup.isolate('n3', 'while no server ran');
      restarted = await createServer({
        supervisor: sup,
        logger: silentLogger,
        secret: testSecret,
        clock,
      });
      await restarted.listen({ host: '127.0.0.1', port: Number(port) });
      await pollPage(
        () => cellColour(page, 'n3'),
        (c) => c === 'isolated',
        'n3 isolated',
      );
      expect(snapshots).toHaveLength(2);
      // It did ask to resume, with an id of the server before.
      expect(streams.at(-1)?.split('-')[0]).toBe(streams[1]?.split('-')[0]);
    } finally {
      await page.close();
      await restarted?.close();
      await fleet.close();
    }
  });
});
