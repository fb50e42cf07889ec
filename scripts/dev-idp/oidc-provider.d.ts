// Minimal typing of the parts of `oidc-provider` (no bundled types) that the dev IdP uses.

// biome-ignore-all lint/suspicious/noExplicitAny: oidc-provider ships no types; its ctx/model objects are used as documented
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  export interface InteractionDetails {
    readonly uid: string;
    readonly prompt: { readonly name: string; readonly details: Record<string, unknown> };
    readonly params: Record<string, unknown>;
    readonly session?: { readonly accountId?: string };
  }

  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    readonly issuer: string;
    proxy: boolean;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<InteractionDetails>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: Record<string, unknown>,
      opts?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    registerGrantType(name: string, handler: (ctx: any) => Promise<void>, params?: string[] | Set<string>): void;
    on(event: string, listener: (...args: any[]) => void): this;
    readonly AccessToken: any;
    readonly Grant: any;
    readonly ResourceServer: any;
  }
}
