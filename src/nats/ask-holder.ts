import { setTimeout as delay } from 'node:timers/promises';
import type { NatsConnection } from '@nats-io/nats-core';
import { NatsError } from '../errors.js';
import { thrownMessage } from '../show.js';
import { isTimeout } from './connection.js';
import type { Answer, Ask } from './shard-answers.js';
import { subjects } from './subjects.js';

// One attempt's wait: a request that reached nobody (between holders) is sent again meanwhile.
const attemptMs = 500;
const pauseMs = 100;

/**
 * Asks the holder of a shard until it answers or `deadline` (ms since the epoch) passes; then
 * says whether a supervisor subscribed for the shard got the request. A request that reached
 * nobody (between holders) is sent again meanwhile.
 */
export async function askHolder(
  nc: NatsConnection,
  shard: number,
  ask: Ask,
  deadline: number,
): Promise<{ answer: Answer } | { delivered: boolean }> {
  let delivered = false;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return { delivered };
    try {
      const reply = await nc.request(subjects.ask(shard), JSON.stringify(ask), {
        timeout: Math.min(left, attemptMs),
      });
      return { answer: reply.json<Answer>() };
    } catch (error) {
      if (isNoResponders(error)) {
        await delay(Math.min(pauseMs, Math.max(0, deadline - Date.now())));
      } else if (isTimeout(error)) {
        delivered = true;
      } else {
        throw new NatsError(`Cannot forward to shard ${shard}: ${thrownMessage(error)}`, {
          cause: error,
        });
      }
    }
  }
}

function isNoResponders(error: unknown): boolean {
  return (error as { isNoResponders?: () => boolean }).isNoResponders?.() === true;
}
