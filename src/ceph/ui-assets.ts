// The Ceph Dashboard web UI's own files (index.html, the hashed bundles, fonts, images, assets/...),
// which the dashboard's HomeController serves without a token from the active mgr. The gateway serves
// them to signed-in people only (pipeline/ui-asset.ts), never decides on them (they are the same
// public bundle for everyone) and never records them (they change nothing).

import type { CatalogueOperation } from '../core/catalogue.ts';

/** The pseudo operation of a UI file: no Ceph token, no version negotiation, the answer passed as it is. */
export const UI_ASSET: CatalogueOperation = {
  id: 'Dashboard.ui_asset',
  method: 'GET',
  template: '/{asset}',
  segments: [{ param: 'asset' }],
  pathParams: [],
  version: '1.0',
  scope: null,
  permission: null,
  poolFields: [],
  secretFields: [],
  bodyFields: [],
  queryParams: [],
  unauthenticated: true,
};

export const isUiAsset = (op: CatalogueOperation | null): boolean => op === UI_ASSET;

/** A file name the UI's build writes: `main.35ec9db61bcbaf2e5786.js`, `favicon.ico`, `Ceph_Logo.svg`... */
const FILE = /^[A-Za-z0-9][A-Za-z0-9_.-]*\.(?:html|js|css|ico|svg|gif|png|jpg|woff2?|ttf|eot|txt|json|map)$/;

/**
 * The paths the UI loads, relative to where it is served (`/`, or `/clusters/<name>/`): the index, the
 * files at its root, and anything under `assets/`. Nothing else is ever sent to the mgr's HomeController
 * (a path without an extension, such as `/metrics`, stays a 404 of the gateway).
 */
export function isUiAssetPath(segments: readonly string[]): boolean {
  if (segments.length === 0) return true;
  if (segments[0] === 'assets') return segments.length >= 2 && segments.slice(1).every((s) => /^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(s));
  return segments.length === 1 && FILE.test(segments[0] as string);
}

/**
 * What the UI calls on every page whatever the person may do (the navigation bar, the landing page,
 * the login page): a policy lets every UI user read them (policies/dashboard-ui.yaml), and they never
 * count as a permission the UI is told about (policy/ui-permissions.ts), or it would show menus
 * whose pages then refuse.
 */
export const UI_BACKGROUND_READS: ReadonlySet<string> = new Set([
  'Summary.list',
  'Health.minimal',
  'FeatureTogglesEndpoint.list',
  'MessageOfTheDay.list',
  'StandardSettings.list',
  'OSD.settings',
  'LangsController.langs',
  'LoginController.custom_banner',
]);

/** Of those, Ceph serves these without a token: forwarded for signed-in people on the clusters whose UI is served. */
export const UI_PUBLIC_READS: ReadonlySet<string> = new Set(['LangsController.langs', 'LoginController.custom_banner']);
