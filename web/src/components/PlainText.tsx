

export default function PlainText({ children, note }: { children: string; note?: string }) {
  return (
    <>
      <div className="md md-plain">{children}</div>
      {note ? <p className="hint md-fallback-note">{note}</p> : null}
    </>
  );
}
