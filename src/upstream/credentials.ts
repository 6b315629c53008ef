/**
 * Who a request acts for. Built per request from the caller's own headers and forwarded as is:
 * the gateway never has a token of its own, and never shares one caller's with another.
 */
export interface Credentials {
  /** The caller's IAM token, forwarded as `X-Auth-Token`. Never logged, never echoed. */
  readonly token: string;
  readonly projectId: string;
  /** Forwarded as `X-Enterprise-Project-ID` when the caller gave one. */
  readonly enterpriseProjectId: string | undefined;
}
