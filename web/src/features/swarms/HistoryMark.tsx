

/** In place of the live indicator and controls while the slider is in the past: where, and the way back. */
export default function HistoryMark({ seq, liveSeq, onLive }: { seq: number | null; liveSeq: number; onLive(): void }) {
  return (
    <>
      <span className="history-mark" role="status" data-testid="history-mark">
        {seq === null
          ? 'History: loading…'
          : `History: as of event ${seq.toLocaleString()} of ${liveSeq.toLocaleString()}`}
      </span>
      <button type="button" className="primary swarm-controls" onClick={onLive}>
        Back to live
      </button>
    </>
  );
}
