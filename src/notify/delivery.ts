// What a channel's deliverer reports for one outbox item. The outbox loop turns it into the
// item's next state: delivered, tried again later (honouring the receiver's Retry-After) or
// dead-lettered with a log line and a metric.

import type { OutboxRow } from '../store/outbox.ts';

export type DeliveryOutcome =
  | { status: 'delivered' }
  | { status: 'retry'; reason: string; retryAfterMs?: number | undefined }
  | { status: 'dead'; reason: string };

export type Deliverer = (item: OutboxRow) => Promise<DeliveryOutcome>;
