import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// Buckets from 50 µs to 1 s: decisions live in the sub-millisecond range.
const LATENCY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/** What the audit gauges read of the audit trail's health (its own type stays in audit/: metrics imports none of ours). */
export interface AuditHealthReading {
  readonly queued: number;
  readonly written: number;
  readonly digest_failures: number;
  readonly details?: Readonly<Record<string, unknown>>;
}

/** What a policy activation reports of its bundles: the live policy's gauges, or the shadow's. */
export interface BundleMetrics {
  readonly bundleLoads: Counter<'result'>;
  readonly bundleActive: Gauge<'revision'>;
  readonly bundleLastSuccess: Gauge;
  readonly bundleHealthy: Gauge;
}

/** Every metric the PDP exposes on /metrics, in one registry per process. */
export class PdpMetrics implements BundleMetrics {
  readonly registry = new Registry();
  readonly decisions = new Counter({ name: 'portcullis_decisions_total', help: 'Decisions answered, by effect and action type', labelNames: ['effect', 'action_type'] as const, registers: [this.registry] });
  readonly decisionDuration = new Histogram({ name: 'portcullis_decision_duration_seconds', help: 'Time to answer a decision: token check, enrichment, evaluation, audit hand-off', labelNames: ['action_type'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly enrichDuration = new Histogram({ name: 'portcullis_enrichment_duration_seconds', help: 'Time spent parsing actions before policy', labelNames: ['action_type'] as const, buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly tokenDuration = new Histogram({ name: 'portcullis_token_verification_duration_seconds', help: 'Time to verify the subject token (cached verifications included)', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly policyRoundTrip = new Histogram({ name: 'portcullis_policy_round_trip_duration_seconds', help: 'Time from handing input to the policy engine to its answer: evaluation plus worker queueing and messaging', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly evalDuration = new Histogram({ name: 'portcullis_policy_eval_duration_seconds', help: 'Time spent inside the WASM policy evaluation', buckets: LATENCY_BUCKETS, registers: [this.registry] });
  readonly dataQueries = new Counter({ name: 'portcullis_data_api_queries_total', help: 'Data API evaluations, by outcome', labelNames: ['outcome'] as const, registers: [this.registry] });
  readonly bundleLoads = new Counter({ name: 'portcullis_bundle_loads_total', help: 'Policy bundle activations, by result', labelNames: ['result'] as const, registers: [this.registry] });
  readonly bundleActive = new Gauge({ name: 'portcullis_bundle_active', help: '1 for the policy revision that answers now', labelNames: ['revision'] as const, registers: [this.registry] });
  readonly bundleLastSuccess = new Gauge({ name: 'portcullis_bundle_last_success_timestamp_seconds', help: 'When a bundle was last activated', registers: [this.registry] });
  readonly bundleHealthy = new Gauge({ name: 'portcullis_bundle_healthy', help: '0 when the last bundle update failed (the previous bundle keeps serving)', registers: [this.registry] });
  readonly sessionEvents = new Counter({ name: 'portcullis_session_events_recorded_total', help: 'Session events PEPs posted that reached the audit trail, by event (each statement of a grouped record counts)', labelNames: ['event'] as const, registers: [this.registry] });
  readonly sessionEventsRefused = new Counter({ name: 'portcullis_session_events_refused_total', help: 'Batches of session events refused because a statement named a decision not issued to that PEP, resource and principal', labelNames: ['reason'] as const, registers: [this.registry] });
  readonly auditRejected = new Counter({ name: 'portcullis_audit_events_rejected_total', help: 'Audit events the sink could not take (the decision failed closed)', registers: [this.registry] });
  readonly tokenFailures = new Counter({ name: 'portcullis_token_failures_total', help: 'Subject or PEP tokens refused, by reason', labelNames: ['who', 'code'] as const, registers: [this.registry] });
  readonly httpRequests = new Counter({ name: 'portcullis_http_requests_total', help: 'HTTP requests, by route and status', labelNames: ['route', 'status'] as const, registers: [this.registry] });
  /** The shadow candidate's bundle, as the live one's above. */
  readonly shadowBundle: BundleMetrics = {
    bundleLoads: new Counter({ name: 'portcullis_shadow_bundle_loads_total', help: 'Shadow policy bundle activations, by result', labelNames: ['result'] as const, registers: [this.registry] }),
    bundleActive: new Gauge({ name: 'portcullis_shadow_bundle_active', help: '1 for the shadow policy revision evaluated beside the live one', labelNames: ['revision'] as const, registers: [this.registry] }),
    bundleLastSuccess: new Gauge({ name: 'portcullis_shadow_bundle_last_success_timestamp_seconds', help: 'When a shadow bundle was last activated', registers: [this.registry] }),
    bundleHealthy: new Gauge({ name: 'portcullis_shadow_bundle_healthy', help: '0 when the last shadow bundle update failed', registers: [this.registry] }),
  };
  readonly shadowEvaluations = new Counter({ name: 'portcullis_shadow_evaluations_total', help: 'Decisions evaluated by the shadow policy, by result: same, different (recorded on the shadow stream), failed (no shadow outcome)', labelNames: ['result'] as const, registers: [this.registry] });
  readonly shadowDropped = new Counter({ name: 'portcullis_shadow_dropped_total', help: 'Decisions the shadow did not evaluate or record, by reason: queue-full, not-loaded, audit-refused', labelNames: ['reason'] as const, registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_process_' });
  }

  /** Audit gauges read from the trail at scrape time, so they cost nothing per decision. */
  observeApprovals(waiting: () => number): void {
    new Gauge({ name: 'portcullis_approval_waits', help: 'Clients on this replica waiting for an approval to resolve (long-polls)', registers: [this.registry], collect() { this.set(waiting()); } });
  }

  observeShadow(queued: () => number): void {
    new Gauge({ name: 'portcullis_shadow_queue_depth', help: 'Decisions waiting for or in the shadow evaluation', registers: [this.registry], collect() { this.set(queued()); } });
  }

  observeSockets(connections: () => number): void {
    new Gauge({ name: 'portcullis_approval_socket_connections', help: 'Open connections on the approvals WebSocket', registers: [this.registry], collect() { this.set(connections()); } });
  }

  observeAudit(health: () => AuditHealthReading): void {
    const read = (pick: (state: AuditHealthReading) => number) => function (this: Gauge) {
      this.set(pick(health()));
    };
    const detail = (state: AuditHealthReading, name: string): number => {
      const value = state.details?.[name];
      return typeof value === 'number' ? value : typeof value === 'boolean' ? Number(value) : 0;
    };
    new Gauge({ name: 'portcullis_audit_queue_depth', help: 'Audit records accepted but not yet stored by the sink (bytes for Kafka: the unshipped spool)', registers: [this.registry], collect: read((state) => state.queued) });
    new Gauge({ name: 'portcullis_audit_spool_bytes', help: 'Bytes in the local spool waiting for Kafka', registers: [this.registry], collect: read((state) => detail(state, 'spool_bytes')) });
    new Gauge({ name: 'portcullis_audit_records_stored_total', help: 'Audit records stored by the sink (acknowledged by Kafka, or written to JSONL)', registers: [this.registry], collect: read((state) => state.written) });
    new Gauge({ name: 'portcullis_audit_fsyncs_total', help: 'Group commits of the local audit files or spool (one fdatasync each): records per commit = records made durable / this', registers: [this.registry], collect: read((state) => detail(state, 'fsyncs')) });
    new Gauge({ name: 'portcullis_audit_send_errors_total', help: 'Failed attempts to ship audit records to Kafka', registers: [this.registry], collect: read((state) => detail(state, 'send_errors')) });
    new Gauge({ name: 'portcullis_audit_dropped_events_total', help: 'Audit records dropped because the spool was full in fail-open mode', registers: [this.registry], collect: read((state) => detail(state, 'dropped_events')) });
    new Gauge({ name: 'portcullis_audit_broker_connected', help: '1 while the audit producer is connected to Kafka', registers: [this.registry], collect: read((state) => detail(state, 'broker_connected')) });
    new Gauge({ name: 'portcullis_audit_producer_lag_seconds', help: 'Seconds since the oldest unshipped audit record could have been shipped (0 when caught up)', registers: [this.registry], collect: read((state) => detail(state, 'lag_seconds')) });
    new Gauge({ name: 'portcullis_audit_digest_failures_total', help: 'Digests that could not be signed', registers: [this.registry], collect: read((state) => state.digest_failures) });
  }
}
