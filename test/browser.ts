import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { until } from './processes.js';

// Headless Chromium for the dashboard tests: Debian's `chromium` package driven by
// playwright-core, which downloads no browser of its own. `.ci/install-chromium` installs it.

export const chromiumPath = '/usr/bin/chromium';
export const artifacts = fileURLToPath(new URL('./artifacts/', import.meta.url));

/** Launches headless Chromium; a missing browser fails with what to run, never a skip. */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(chromiumPath)) {
    throw new Error(
      `${chromiumPath} is missing: run .ci/install-chromium (apt-get install chromium)`,
    );
  }
  await mkdir(artifacts, { recursive: true });
  return chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

/** Every console error, uncaught exception and failed request of a page, as lines. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => errors.push(`uncaught: ${error.message}`));
  page.on('requestfailed', (request) => {
    // Closing the page aborts the event stream: that is not the page's error.
    if (!request.url().includes('/v1/events')) {
      errors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    }
  });
  return errors;
}

/**
 * Which state's colour covers most of a node's cell, read from the canvas's pixels: what a
 * person sees, not what the page's model says. Undefined when the page has no such node.
 */
export function cellColour(page: Page, id: string): Promise<string | undefined> {
  return page.evaluate((nodeId) => {
    const colours: Record<string, [number, number, number]> = {
      online: [0x00, 0x9e, 0x73],
      overloaded: [0xe6, 0x9f, 0x00],
      isolated: [0x00, 0x72, 0xb2],
      offline: [0x00, 0x00, 0x00],
    };
    // This runs in the page; the tests are compiled without the DOM's types, hence `any`.
    // biome-ignore lint/suspicious/noExplicitAny: the page's window, untyped here
    const page: any = globalThis;
    const { fleet, grid } = page.wyneosDashboard;
    const node = fleet.nodes.get(nodeId);
    if (node === undefined) return undefined;
    const { x, y, size } = grid.cellRect(node.index);
    const ratio = page.devicePixelRatio || 1;
    const ctx = grid.canvas.getContext('2d');
    const side = Math.round(size * ratio);
    const { data }: { data: Uint8ClampedArray } = ctx.getImageData(
      Math.round(x * ratio),
      Math.round(y * ratio),
      side,
      side,
    );
    const hits: Record<string, number> = {};
    for (let i = 0; i < data.length; i += 4) {
      for (const [state, [r, g, b]] of Object.entries(colours)) {
        const close =
          Math.abs((data[i] ?? 0) - r) +
          Math.abs((data[i + 1] ?? 0) - g) +
          Math.abs((data[i + 2] ?? 0) - b);
        if (close < 30) hits[state] = (hits[state] ?? 0) + 1;
      }
    }
    const best = Object.entries(hits).sort((a, b) => b[1] - a[1])[0];
    return best?.[0] ?? 'none';
  }, id);
}

/** Polls `read` in the page until `done` holds, for at most `ms`. */
export function pollPage<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  what: string,
  ms = 20_000,
): Promise<T> {
  return until(read, done, ms, what);
}
