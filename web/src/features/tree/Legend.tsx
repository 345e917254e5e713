import type { Ref } from 'react';
import { ACTION_TYPES, LIFECYCLES } from '../../api/types';
import { DEPENDENCY_EDGE } from './dependencies';
import { TREE_EDGE } from './edges';
import { ACTION_LABELS, LIFECYCLE_COLOURS, LIFECYCLE_LABELS, symbolSvgPath } from './glyphs';

export default function Legend({ boxRef }: { boxRef?: Ref<HTMLDivElement> }) {
  return (
    <div className="legend" aria-label="Legend" ref={boxRef}>
      <div>
        <h3>Colour: lifecycle</h3>
        <ul>
          {LIFECYCLES.map((l) => (
            <li key={l}>
              <svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true">
                <circle cx="7" cy="7" r="6" fill={LIFECYCLE_COLOURS[l]} />
              </svg>
              {LIFECYCLE_LABELS[l]}
            </li>
          ))}
        </ul>
      </div>
      <div>
        <h3>Lines</h3>
        <ul>
          <li>
            <svg width="24" height="14" viewBox="0 0 24 14" aria-hidden="true">
              <line x1="1" y1="7" x2="23" y2="7" stroke={TREE_EDGE.colour} strokeWidth="1.5" />
            </svg>
            Parent to child
          </li>
          <li data-testid="legend-dependency">
            <svg width="24" height="14" viewBox="0 0 24 14" aria-hidden="true">
              <line x1="1" y1="7" x2="23" y2="7" stroke={DEPENDENCY_EDGE.colour} strokeWidth={DEPENDENCY_EDGE.width}
                strokeDasharray={DEPENDENCY_EDGE.dash.join(' ')} />
            </svg>
            Needs (waits for a sibling)
          </li>
        </ul>
      </div>
      <div>
        <h3>Symbol: action</h3>
        <ul>
          {ACTION_TYPES.map((a, i) => (
            <li key={a}>
              <svg width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">
                <path d={symbolSvgPath(i, 8, 8, 5.5)} fill="#475569" />
              </svg>
              {ACTION_LABELS[a]}
            </li>
          ))}
        </ul>
      </div>
    </div>
  );
}
