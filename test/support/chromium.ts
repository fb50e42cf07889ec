// How the browser tests start Debian's Chromium (with playwright-core): headless, no sandbox (CI runs as
// root), and nothing that would reach the network on its own (QUIC, background fetches, updates, sync).

export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
