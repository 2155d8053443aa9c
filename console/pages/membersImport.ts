import { z } from 'zod';
import { membersFileRunner, membersImportBodyLimit } from '../../broker/api/routes/membersImport.js';
import { only, type ProtectedRoute, type Route } from '../../broker/api/route.js';
import type { RouteDeps } from '../../broker/api/routes/deps.js';
import { membersCsvHeader, type RowProblem } from '../../broker/registry/membersCsv.js';
import { MembersImportError, type ImportPreview, type ImportResult } from '../../broker/registry/membersImport.js';
import { formatCount } from '../format.js';
import { html, type Html } from '../html.js';
import { layout } from '../layout.js';
import { htmlResponse, pageContext, type PageContext } from '../pageContext.js';

/**
 * Members import in the browser (issue 14 page 6): a members file is first checked with the
 * import's own checks (previewMembersImport) and every bad line shown with what is wrong, in
 * the page's language, with nothing written; then "import" sends the same file again and the
 * import writes all of it or nothing (it checks again: the file may have changed meanwhile).
 *
 * A browser form cannot send a file without multipart, which the central does not parse, so
 * client/members.ts posts the chosen file as text/csv (the API's own body type) and puts the
 * answer's `#import-result` in place; the file stays chosen in the form between the steps.
 * The file is never kept by the central: nothing with ID numbers waits on its disk.
 */

const managers = only('admin', 'manager');
const stepQuery = z.object({ step: z.enum(['check', 'import']).catch('check') });

function problemText(context: PageContext, problem: RowProblem): string {
  const { t, principal } = context;
  switch (problem.kind) {
    case 'invalid':
      return problem.field === null ? t('membersImport.problem.columns', { header: membersCsvHeader }) : t(`member.problem.${problem.field}`);
    case 'repeated':
      return t('membersImport.problem.repeated', { line: problem.firstLine ?? '?' });
    case 'not-your-unit':
      return t('membersImport.problem.not-your-unit', { unit: principal?.unit ?? '' });
    case 'columns':
    case 'header':
      return t(`membersImport.problem.${problem.kind}`, { header: membersCsvHeader });
    default:
      return t(`membersImport.problem.${problem.kind}`);
  }
}

function problemTable(context: PageContext, problems: readonly RowProblem[], problemCount: number): Html {
  const { t, lang } = context;
  return html`<div class="table-wrap"><table class="stack" id="import-problems">
<thead><tr><th scope="col" class="num">${t('membersImport.line')}</th><th scope="col">${t('membersImport.column')}</th><th scope="col">${t('membersImport.problem')}</th></tr></thead>
<tbody>${problems.map(
    (p) =>
      html`<tr data-line="${p.line}" data-kind="${p.kind}"><td class="num" data-label="${t('membersImport.line')}">${p.line}</td><td data-label="${t('membersImport.column')}">${
        p.field === null ? '—' : t(`member.${p.field}`)
      }</td><td data-label="${t('membersImport.problem')}">${problemText(context, p)}</td></tr>`,
  )}</tbody></table></div>
${problemCount > problems.length ? html`<p class="hint">${t('membersImport.more', { count: formatCount(lang, problemCount - problems.length) })}</p>` : ''}`;
}

type Outcome =
  | { readonly kind: 'none' }
  | { readonly kind: 'no-file' }
  | { readonly kind: 'preview'; readonly preview: ImportPreview }
  | { readonly kind: 'refused'; readonly error: MembersImportError }
  | { readonly kind: 'imported'; readonly result: ImportResult };

function outcomeBody(context: PageContext, outcome: Outcome): Html {
  const { t, lang } = context;
  const n = (value: number) => formatCount(lang, value);
  switch (outcome.kind) {
    case 'none':
      return html``;
    case 'no-file':
      return html`<p class="error" role="alert">${t('membersImport.noFile')}</p>`;
    case 'preview': {
      const { preview } = outcome;
      if (preview.problemCount > 0) {
        return html`<p class="error" role="alert" data-summary>${t('membersImport.bad', { rows: n(preview.rows), good: n(preview.goodRows), problems: n(preview.problemCount) })}</p>
${problemTable(context, preview.problems, preview.problemCount)}`;
      }
      if (preview.rows === 0) return html`<p class="error" role="alert" data-summary>${t('membersImport.empty')}</p>`;
      return html`<p class="notice" role="status" data-summary>${t('membersImport.good', { rows: n(preview.rows), added: n(preview.newMembers), existing: n(preview.rows - preview.newMembers) })}</p>
<p><button type="button" data-step="import">${t('membersImport.import', { rows: n(preview.rows) })}</button></p>`;
    }
    case 'refused':
      return html`<p class="error" role="alert" data-summary>${t('membersImport.refused', { problems: n(outcome.error.problemCount) })}</p>
${problemTable(context, outcome.error.problems, outcome.error.problemCount)}`;
    case 'imported': {
      const { result } = outcome;
      return html`<p class="notice" role="status" data-summary>${t('membersImport.done', { rows: n(result.rows), added: n(result.added), updated: n(result.updated), unchanged: n(result.unchanged) })}</p>
<p><a class="button" href="/members">${t('membersImport.toMembers')}</a></p>`;
    }
  }
}

function importPage(context: PageContext, outcome: Outcome): Html {
  const { t, principal } = context;
  return layout(
    context,
    { title: t('membersImport.title'), path: '/members', scripts: ['members'] },
    html`<section class="card">
<p class="hint">${t('membersImport.format')}</p>
<p class="code import-header">${membersCsvHeader}</p>
${principal?.role === 'manager' ? html`<p class="hint">${t('membersImport.onlyUnit', { unit: principal.unit ?? '' })}</p>` : ''}
<form id="import-form" class="import-form" data-csrf="${context.csrfToken ?? ''}" data-t-working="${t('membersImport.working')}" data-t-failed="${t('membersImport.failed')}" data-t-no-file="${t('membersImport.noFile')}">
<label for="import-file">${t('membersImport.file')}</label>
<input id="import-file" name="file" type="file" accept=".csv,text/csv" required>
<button type="submit">${t('membersImport.check')}</button>
</form>
</section>
<div id="import-result" tabindex="-1" aria-live="polite">${outcomeBody(context, outcome)}</div>`,
  );
}

export function membersImportPages(deps: Pick<RouteDeps, 'registry' | 'config' | 'logger' | 'now'>): Route[] {
  const runner = membersFileRunner(deps);
  const show: ProtectedRoute = {
    path: '/members/import',
    access: managers,
    readsQuery: true,
    async handle(request) {
      const context = pageContext(request);
      return htmlResponse(context, importPage(context, { kind: 'none' }));
    },
  };
  const send: ProtectedRoute = {
    method: 'POST',
    path: '/members/import',
    access: managers,
    readsQuery: true,
    bodyLimit: membersImportBodyLimit,
    async handle(request) {
      const context = pageContext(request);
      const { step } = stepQuery.parse(Object.fromEntries(request.query));
      const csv = request.body;
      if (typeof csv !== 'string' || csv.trim() === '') return htmlResponse(context, importPage(context, { kind: 'no-file' }));
      if (step === 'check') return htmlResponse(context, importPage(context, { kind: 'preview', preview: await runner.preview(request.principal, csv) }));
      try {
        return htmlResponse(context, importPage(context, { kind: 'imported', result: await runner.import(request, csv) }));
      } catch (err) {
        if (!(err instanceof MembersImportError)) throw err;
        return htmlResponse(context, importPage(context, { kind: 'refused', error: err }));
      }
    },
  };
  return [show, send];
}
