import { InvalidOptionsError } from '../errors.js';
import {
  type FailureDetector,
  type PhiAccrualOptions,
  phiAccrualDetector,
  timeoutDetector,
} from '../healing/index.js';
import { show } from '../show.js';
import type { DetectorState } from '../telemetry/index.js';

/** The detector option: `'timeout'` (the default), `'phi'`, or `{ kind: 'phi', ...options }`. */
export type DetectorOption =
  | 'timeout'
  | 'phi'
  | { readonly kind: 'timeout' }
  | ({ readonly kind: 'phi' } & PhiAccrualOptions);

/** The detector an option names, and the suspicion at which it declares a node failed. */
export function resolveDetector(
  option: DetectorOption | undefined,
  heartbeatTimeoutMs: number,
): { detector: FailureDetector<DetectorState>; failedAt: number } {
  const kind = typeof option === 'string' ? option : (option?.kind ?? 'timeout');
  if (kind === 'timeout') {
    return { detector: timeoutDetector({ timeoutMs: heartbeatTimeoutMs }), failedAt: 1 };
  }
  if (kind !== 'phi') {
    throw new InvalidOptionsError('detector', `must be 'timeout' or 'phi', got ${show(kind)}`);
  }
  const { kind: _kind, ...phiOptions } =
    typeof option === 'object' ? (option as { kind: 'phi' } & PhiAccrualOptions) : { kind: 'phi' };
  const detector = phiAccrualDetector(phiOptions);
  return { detector, failedAt: detector.options.threshold };
}
