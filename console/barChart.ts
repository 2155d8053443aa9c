import { html, type Html } from './html.js';

export interface Bar {
  /** The bar's name in the table and its tooltip (an hour, a day). */
  readonly label: string;
  /** A shorter name under the axis; empty leaves that bar's tick unlabelled. */
  readonly tick: string;
  readonly value: number;
  /** The value as the page writes numbers. */
  readonly shown: string;
}

const width = 960;
const height = 200;
const padTop = 16;
const padBottom = 28;
const padLeft = 48;

/**
 * A bar chart drawn on the server as inline SVG: nothing to download or run, works offline and
 * under the console's CSP. Screen readers get the title and description, each bar its own
 * <title>, and the same numbers as a table below it.
 */
export function barChart(id: string, title: string, description: string, bars: readonly Bar[], columns: { label: string; value: string; table: string }): Html {
  const max = Math.max(1, ...bars.map((bar) => bar.value));
  const plotWidth = width - padLeft;
  const plotHeight = height - padTop - padBottom;
  const slot = plotWidth / Math.max(1, bars.length);
  const barWidth = Math.max(1, slot * 0.8);
  const y = (value: number) => padTop + plotHeight - (value / max) * plotHeight;
  const n = (value: number) => value.toFixed(1);
  return html`<figure class="chart" id="${id}">
<div class="chart-scroll"><svg viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="${id}-title ${id}-desc" class="bars">
<title id="${id}-title">${title}</title>
<desc id="${id}-desc">${description}</desc>
<line class="axis" x1="${padLeft}" y1="${n(padTop + plotHeight)}" x2="${width}" y2="${n(padTop + plotHeight)}"></line>
<text class="scale" x="${padLeft - 6}" y="${padTop + 12}" text-anchor="end">${String(max)}</text>
<text class="scale" x="${padLeft - 6}" y="${n(padTop + plotHeight)}" text-anchor="end">0</text>
${bars.map(
  (bar, i) =>
    html`<rect class="bar" x="${n(padLeft + i * slot + (slot - barWidth) / 2)}" y="${n(y(bar.value))}" width="${n(barWidth)}" height="${n(padTop + plotHeight - y(bar.value))}" data-value="${bar.value}"><title>${bar.label}: ${bar.shown}</title></rect>${
      bar.tick === '' ? '' : html`<text class="tick" x="${n(padLeft + i * slot + slot / 2)}" y="${height - 6}" text-anchor="middle">${bar.tick}</text>`
    }`,
)}
</svg></div>
<figcaption>${title}</figcaption>
<details><summary>${columns.table}</summary>
<div class="table-wrap"><table><thead><tr><th scope="col">${columns.label}</th><th scope="col">${columns.value}</th></tr></thead>
<tbody>${bars.map((bar) => html`<tr><td>${bar.label}</td><td>${bar.shown}</td></tr>`)}</tbody></table></div></details>
</figure>`;
}
