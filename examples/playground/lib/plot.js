/**
 * Charts of the playground, drawn by uPlot (bundled into out/uplot.js by build.ts). Each chart
 * follows its container's width, so the page reads on a phone too.
 *
 * @module
 */
import uPlot from "../out/uplot.js";

export const COLORS = [
  "#2563eb",
  "#dc2626",
  "#16a34a",
  "#9333ea",
  "#ea580c",
  "#0891b2",
  "#be185d",
  "#4d7c0f",
  "#7c3aed",
  "#b45309",
  "#0f766e",
  "#475569",
];

/** Charts by container, so a redraw replaces the old chart. */
const charts = new Map();

function sizeOf(container) {
  const width = Math.max(260, Math.floor(container.clientWidth || 320));
  return { width, height: Math.round(Math.min(300, Math.max(200, width * 0.6))) };
}

const observer = new ResizeObserver((entries) => {
  for (const entry of entries) charts.get(entry.target)?.setSize(sizeOf(entry.target));
});

function mount(container, options, data) {
  charts.get(container)?.destroy();
  const chart = new uPlot({ ...sizeOf(container), ...options }, data, container);
  charts.set(container, chart);
  observer.observe(container);
  container.dataset.plotted = "true";
  return chart;
}

/**
 * Lines against a shared x; `null` leaves a gap, bridged when `spanGaps`.
 *
 * @param {HTMLElement} container
 * @param {{ title: string; x: string; y: string; xLog?: boolean; yLog?: boolean;
 *   series: { label: string; color?: string; dash?: number[]; points?: boolean; line?: boolean }[];
 *   data: (number | null)[][]; spanGaps?: boolean; yRange?: [number, number] }} spec
 */
export function lineChart(container, spec) {
  const options = {
    title: spec.title,
    scales: {
      x: { time: false, distr: spec.xLog ? 3 : 1 },
      y: { distr: spec.yLog ? 3 : 1, ...(spec.yRange ? { range: spec.yRange } : {}) },
    },
    axes: [
      { label: spec.x, size: 44 },
      { label: spec.y, size: 56, values: (_u, ticks) => ticks.map(shortNumber) },
    ],
    legend: { live: false },
    series: [
      { label: spec.x },
      ...spec.series.map((s, i) => ({
        label: s.label,
        stroke: s.color ?? COLORS[i % COLORS.length],
        width: 2,
        dash: s.dash,
        spanGaps: spec.spanGaps ?? false,
        points: { show: s.points ?? true, size: s.line === false ? 5 : 6 },
        ...(s.line === false ? { paths: () => null } : {}),
      })),
    ],
  };
  return mount(container, options, spec.data);
}

/** 3 significant digits, no exponent for everyday magnitudes. */
export function shortNumber(v) {
  if (v === null || v === undefined || !Number.isFinite(v)) return "";
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e5 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(3)));
}
