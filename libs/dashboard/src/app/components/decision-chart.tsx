import type { DecisionBucket } from '../api/operations.ts';

const SERIES = [
  { key: 'allow', label: 'Allowed', className: 'bar-allow' },
  { key: 'requireApproval', label: 'Needs approval', className: 'bar-require_approval' },
  { key: 'deny', label: 'Denied', className: 'bar-deny' },
] as const;

/** Geometry of the stacked bars, kept apart from rendering so it can be tested. */
export function chartBars(buckets: readonly DecisionBucket[], width: number, height: number) {
  const max = Math.max(1, ...buckets.map((b) => b.allow + b.deny + b.requireApproval));
  const slot = buckets.length > 0 ? width / buckets.length : width;
  const barWidth = Math.max(1, slot * 0.8);
  return {
    max,
    bars: buckets.map((b, i) => {
      let y = height;
      const parts = SERIES.map((s) => {
        const h = (b[s.key] / max) * height;
        y -= h;
        return { key: s.key, className: s.className, y, h, value: b[s.key] };
      }).filter((p) => p.h > 0);
      return { x: i * slot + (slot - barWidth) / 2, width: barWidth, parts, bucket: b };
    }),
  };
}

/**
 * Decisions over time as stacked bars. The picture is `aria-hidden`; the same numbers are in a
 * table for screen readers, and the legend names every colour.
 */
export function DecisionChart({ buckets, caption }: { buckets: readonly DecisionBucket[]; caption: string }) {
  const W = 600;
  const H = 160;
  const { max, bars } = chartBars(buckets, W, H);
  const totals = buckets.reduce((t, b) => ({ allow: t.allow + b.allow, deny: t.deny + b.deny, requireApproval: t.requireApproval + b.requireApproval }), { allow: 0, deny: 0, requireApproval: 0 });
  return (
    <figure className="chart">
      <figcaption>
        {caption}: {totals.allow} allowed, {totals.requireApproval} needed approval, {totals.deny} denied.
      </figcaption>
      <p className="chart-max" aria-hidden="true">
        Tallest bar: {max}
      </p>
      <svg viewBox={`0 0 ${W} ${H}`} preserveAspectRatio="none" aria-hidden="true" focusable="false" className="chart-svg">
        <line x1="0" y1={H} x2={W} y2={H} className="chart-axis" />
        {bars.map((b) =>
          b.parts.map((p) => <rect key={`${b.bucket.start}-${p.key}`} x={b.x} y={p.y} width={b.width} height={p.h} className={p.className} />),
        )}
      </svg>
      {buckets.length > 0 ? (
        <p className="chart-scale" aria-hidden="true">
          <span>{new Date(buckets[0]!.start).toLocaleString(undefined, { hour: '2-digit', minute: '2-digit', month: 'short', day: 'numeric' })}</span>
          <span>now</span>
        </p>
      ) : null}
      <ul className="legend" aria-hidden="true">
        {SERIES.map((s) => (
          <li key={s.key}>
            <span className={`swatch ${s.className}`} /> {s.label}
          </li>
        ))}
      </ul>
      <table className="visually-hidden">
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">From</th>
            {SERIES.map((s) => (
              <th scope="col" key={s.key}>
                {s.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {buckets
            .filter((b) => b.allow + b.deny + b.requireApproval > 0)
            .map((b) => (
              <tr key={b.start}>
                <th scope="row">{new Date(b.start).toLocaleString()}</th>
                {SERIES.map((s) => (
                  <td key={s.key}>{b[s.key]}</td>
                ))}
              </tr>
            ))}
        </tbody>
      </table>
    </figure>
  );
}
