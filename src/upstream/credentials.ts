/** From the caller's own headers, forwarded as is: the gateway has no token, and never shares one. */
export interface Credentials {
  /** Forwarded as `X-Auth-Token`; never logged, never echoed. */
  readonly token: string;
  readonly projectId: string;
  readonly enterpriseProjectId: string | undefined;
}
