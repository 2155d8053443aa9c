import type { Role } from '../broker/access/roles.js';
import { html, type Html } from './html.js';
import type { PageContext } from './pageContext.js';

interface NavLink {
  readonly path: string;
  readonly label: Parameters<PageContext['t']>[0];
  /** Who sees the link (the page refuses the others anyway); everyone when absent. */
  readonly roles?: readonly Role[];
}

/** The console's pages, in menu order; a page appears here once it exists. */
const nav: readonly NavLink[] = [
  { path: '/', label: 'nav.overview' },
  // in/out log (issue 14 page 4)
  { path: '/events', label: 'nav.events', roles: ['admin', 'manager', 'guard'] },
  // members (issue 14 page 6)
  { path: '/members', label: 'nav.members', roles: ['admin', 'manager'] },
  // guard screen (issue 14 page 9)
  { path: '/guard', label: 'nav.guard', roles: ['admin', 'manager', 'guard'] },
  // checkpoints (issue 14 pages 2 and 3)
  { path: '/checkpoints', label: 'nav.checkpoints' },
  // fleet, lists, audit, users (issue 14 pages 7, 8, 11)
  { path: '/lists', label: 'nav.lists', roles: ['admin', 'manager'] },
  { path: '/fleet', label: 'nav.fleet', roles: ['admin', 'manager', 'guard'] },
  { path: '/users', label: 'nav.users', roles: ['admin'] },
  { path: '/audit', label: 'nav.audit', roles: ['admin'] },
  // who is inside now (issue 14 page 5)
  { path: '/inside', label: 'nav.inside', roles: ['admin', 'manager', 'guard'] },
];

export interface LayoutOptions {
  readonly title: string;
  /** The path of this page, to mark its menu entry. */
  readonly path: string;
  /** Client scripts this page needs, by bundle name (assets.ts). */
  readonly scripts?: readonly string[];
}

/** The frame of every page: language, menu for a logged-in person, the switch to the other language. */
export function layout(context: PageContext, options: LayoutOptions, body: Html): Html {
  const { t, principal } = context;
  const other = context.lang === 'vi' ? 'en' : 'vi';
  return html`<!doctype html>
<html lang="${context.lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · qrgate</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/console.css">
</head>
<body>
<header class="top">
  <a class="brand" href="/">qrgate</a>
  ${
    principal === null
      ? html`<nav aria-label="${t('nav.label')}"><a href="/check">${t('nav.check')}</a></nav>`
      : html`<nav aria-label="${t('nav.label')}">${nav.filter((link) => link.roles === undefined || link.roles.includes(principal.role)).map((link) => html`<a href="${link.path}"${link.path === options.path ? html` aria-current="page"` : ''}>${t(link.label)}</a>`)}<a href="/check">${t('nav.check')}</a></nav>
  <div class="who">
    <span>${t('who.signedIn', { user: principal.id, role: t(`role.${principal.role}`) })}</span>
    ${
      context.csrfToken === null
        ? ''
        : html`<form method="post" action="/logout"><input type="hidden" name="_csrf" value="${context.csrfToken}"><button type="submit" class="link">${t('nav.logout')}</button></form>`
    }
  </div>`
  }
  <a class="lang" href="?lang=${other}" hreflang="${other}" lang="${other}">${t('lang.other')}</a>
</header>
<main>
<h1>${options.title}</h1>
${body}
</main>
${(options.scripts ?? []).map((name) => html`<script type="module" src="/assets/${name}.js"></script>`)}
</body>
</html>
`;
}
