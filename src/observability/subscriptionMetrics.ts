import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The subscription fields of the schema: the only values of the `field` label. */
export const SUBSCRIPTION_FIELDS = ['jobUpdated', 'engineJobEvents'] as const;
export type SubscriptionField = (typeof SUBSCRIPTION_FIELDS)[number];

/** Why a subscribe was refused (the `reason` label). */
export type SubscribeRefusal = 'connection_limit' | 'total_limit' | 'invalid';

/** Why a WebSocket was turned away or closed by the gateway (the `reason` label). */
export type SocketRefusal = 'origin' | 'path' | 'unauthenticated' | 'bad_request' | 'shutting_down' | 'slow_consumer' | 'socket_limit' | 'address_limit' | 'idle';

export interface SubscriptionMetrics {
  subscriptionStarted(field: SubscriptionField): void;
  subscriptionEnded(field: SubscriptionField): void;
  subscribeRefused(reason: SubscribeRefusal): void;
  socketOpened(): void;
  socketClosed(): void;
  socketRefused(reason: SocketRefusal): void;
  pollers(count: number): void;
  poll(outcome: 'ok' | 'failed' | 'refused', calls: number): void;
  eventSent(field: SubscriptionField, delayMs: number | undefined): void;
  conflated(): void;
}

/**
 * Subscription metrics on the gateway's registry. Labels come from closed sets only (fields,
 * outcomes, reasons), so the series cannot grow with traffic.
 */
export function createSubscriptionMetrics(registry: Registry): SubscriptionMetrics {
  const registers = [registry];
  const active = new Gauge({ name: 'gateway_subscriptions_active', help: 'Subscriptions open now, by field.', labelNames: ['field'] as const, registers });
  for (const field of SUBSCRIPTION_FIELDS) active.set({ field }, 0);
  const refused = new Counter({
    name: 'gateway_subscriptions_refused_total',
    help: 'Subscribe messages refused: past SUBSCRIPTION_MAX_PER_CONNECTION or SUBSCRIPTION_MAX_TOTAL, or an invalid operation.',
    labelNames: ['reason'] as const,
    registers,
  });
  const sockets = new Gauge({ name: 'gateway_subscription_sockets_active', help: 'WebSockets open now.', registers });
  const socketsRefused = new Counter({
    name: 'gateway_subscription_sockets_refused_total',
    help: 'WebSockets turned away or closed by the gateway, by reason.',
    labelNames: ['reason'] as const,
    registers,
  });
  const pollers = new Gauge({ name: 'gateway_subscription_pollers_active', help: 'Upstream pollers running now: one per watched engine and credential scope.', registers });
  const polls = new Counter({ name: 'gateway_subscription_polls_total', help: 'Polls of the upstream for subscriptions, by outcome.', labelNames: ['outcome'] as const, registers });
  const pollCalls = new Counter({ name: 'gateway_subscription_poll_calls_total', help: 'Upstream calls the subscription polls made.', registers });
  const events = new Counter({ name: 'gateway_subscription_events_total', help: 'Subscription events sent, by field.', labelNames: ['field'] as const, registers });
  const conflated = new Counter({
    name: 'gateway_subscription_events_conflated_total',
    help: 'Events replaced by a newer one before a slow subscriber read them.',
    registers,
  });
  const delay = new Histogram({
    name: 'gateway_subscription_event_delay_seconds',
    help: 'From the poll that saw a change to its event being handed to the socket.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  return {
    subscriptionStarted: (field) => active.inc({ field }),
    subscriptionEnded: (field) => active.dec({ field }),
    subscribeRefused: (reason) => refused.inc({ reason }),
    socketOpened: () => sockets.inc(),
    socketClosed: () => sockets.dec(),
    socketRefused: (reason) => socketsRefused.inc({ reason }),
    pollers: (count) => pollers.set(count),
    poll: (outcome, calls) => {
      polls.inc({ outcome });
      pollCalls.inc(calls);
    },
    eventSent: (field, delayMs) => {
      events.inc({ field });
      if (delayMs !== undefined) delay.observe(delayMs / 1000);
    },
    conflated: () => conflated.inc(),
  };
}
