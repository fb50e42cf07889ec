// The pages' one stylesheet and one script, inlined into every page, and the Content-Security-Policy
// that allows exactly these two by their sha-256 (CSP Level 3 hash sources): nothing else runs or
// styles a page, so markup smuggled in through a record could do neither even if it escaped escaping.

import { createHash } from 'node:crypto';

export const STYLE = `
:root{--ink:#1d2433;--muted:#5b6577;--line:#d9dee7;--bg:#f6f7f9;--card:#fff;--accent:#0f6e6a;--deny:#b42318;--allow:#067647;--warn:#b54708;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg)}
header.top{background:#1f2a37;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;align-items:center;flex-wrap:wrap}
header.top .brand{font-weight:700;letter-spacing:.02em}
header.top a{color:#cfe7e5;text-decoration:none}
header.top a:hover,header.top a[aria-current]{color:#fff;text-decoration:underline}
header.top .who{margin-left:auto;color:#cbd2dc}
main{max-width:1280px;margin:0 auto;padding:1.2rem}
h1{font-size:1.35rem;margin:.2rem 0 1rem}
h2{font-size:1.05rem;margin:1.4rem 0 .6rem}
a{color:var(--accent)}
.card{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:1rem 1.2rem;margin-bottom:1rem}
.card>h2:first-child{margin-top:0}
.muted{color:var(--muted)}
.mono,code,pre,td.mono{font-family:var(--mono);font-size:12.5px}
code{overflow-wrap:anywhere}
pre{background:#f0f2f5;border:1px solid var(--line);border-radius:4px;padding:.7rem;overflow:auto;white-space:pre-wrap;overflow-wrap:anywhere;margin:0}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
tbody tr:nth-child(even){background:#fafbfc}
td.path{max-width:28rem;overflow-wrap:anywhere}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.kv dt{color:var(--muted)}
dl.kv dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 .45rem;border-radius:9px;font-size:12px;font-weight:600;border:1px solid currentColor}
.allow,.ok{color:var(--allow)}
.deny,.bad{color:var(--deny)}
.unknown,.warn{color:var(--warn)}
.refused{color:var(--muted)}
form.filters{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:.5rem .8rem;align-items:end}
form.filters label,form.filters .field{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:.15rem}
input,select,button{font:inherit;padding:.3rem .45rem;border:1px solid #b8c0cc;border-radius:4px;background:#fff;color:var(--ink)}
button,.button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer;text-decoration:none;display:inline-block;padding:.3rem .8rem;border-radius:4px}
.button.secondary,button.secondary{background:#fff;color:var(--accent)}
.actions{display:flex;gap:.6rem;flex-wrap:wrap;align-items:center;margin:.8rem 0}
.pager{display:flex;gap:1rem;margin:.8rem 0}
.notice{border-left:4px solid var(--warn);background:#fff8ec;padding:.6rem .9rem;margin:0 0 1rem}
.notice.error{border-color:var(--deny);background:#fdf0ef}
.notice.good{border-color:var(--allow);background:#effaf3}
ul.rules{list-style:none;padding:0;margin:0}
ul.rules li{padding:.45rem 0;border-bottom:1px solid var(--line)}
ul.rules li:last-child{border-bottom:0}
.signin{max-width:28rem;margin:4rem auto;text-align:center}
.signin .button{font-size:1.05rem;padding:.6rem 1.2rem}
footer{max-width:1280px;margin:0 auto;padding:0 1.2rem 2rem;color:var(--muted);font-size:12px}
`;

/** Gives every <time datetime> the viewer's local time as its tooltip (the page shows UTC). */
export const SCRIPT =
  "for(const t of document.querySelectorAll('time[datetime]')){const d=new Date(t.dateTime);if(!isNaN(d))t.title=d.toLocaleString()+' (your local time)'}";

const sha256 = (text: string) => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/**
 * The pages' policy: nothing by default; the one inline style and script by hash; forms post only
 * here; no <base>, no plugins, never framed (clickjacking). The JSON APIs keep `default-src 'none'`.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `style-src ${sha256(STYLE)}`,
  `script-src ${sha256(SCRIPT)}`,
  "form-action 'self'",
  "base-uri 'none'",
  "object-src 'none'",
  "frame-ancestors 'none'",
].join('; ');
