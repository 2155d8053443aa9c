import { html, type Html } from '../html.js';
import { formatCount } from '../format.js';
import type { PageContext } from '../pageContext.js';

export interface FourCounts {
  readonly lastHour: number;
  readonly lastDay: number;
  readonly lastWeek: number;
  readonly lastMonth: number;
}

const windows = ['lastHour', 'lastDay', 'lastWeek', 'lastMonth'] as const;

/** The inspector's four numbers, the same on the public lookup and a checkpoint's page. */
export function fourCounts(context: PageContext, counts: FourCounts, label: string): Html {
  return html`<dl class="counts" aria-label="${label}">${windows.map(
    (window) => html`<div><dt>${context.t(`stats.${window}`)}</dt><dd data-window="${window}">${formatCount(context.lang, counts[window])}</dd></div>`,
  )}</dl>`;
}
