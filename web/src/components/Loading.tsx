

export default function Loading({ label, page = false }: { label: string; page?: boolean }) {
  return (
    <div className={page ? 'loading loading-page' : 'loading'} role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}
