import { useId, useState } from 'react';
import { useGetSwarmQuery } from '../../api/http';
import { isLongGoal } from '../../lib/labels';

/**
 * A card's goal. The list carries its beginning; a long one is folded to a few lines, and a button (no
 * scroll box) shows it whole, fetching the rest when the list had only a preview.
 */
export default function Goal({ swarmId, name, preview, chars }: { swarmId: string; name: string; preview: string; chars: number }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const cut = chars > preview.length;
  const full = useGetSwarmQuery(swarmId, { skip: !open || !cut });
  const long = cut || isLongGoal(preview);
  const text = open && cut ? (full.data?.goal ?? `${preview}…`) : `${preview}${cut ? '…' : ''}`;
  return (
    <>
      <p className={`goal${long && !open ? ' goal-folded' : ''}`} id={id}>
        {text}
      </p>
      {long ? (
        <button type="button" className="link-button" aria-expanded={open} aria-controls={id} onClick={() => setOpen((o) => !o)}>
          {open ? 'Show less' : <>Show the whole goal<span className="visually-hidden"> of {name}</span></>}
        </button>
      ) : null}
    </>
  );
}
