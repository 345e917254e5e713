import { type ComponentProps } from 'react';

/** A task-list box: read-only, on the line of its label, and named for screen readers. */
export default function TaskBox(props: ComponentProps<'input'>) {
  if (props.type !== 'checkbox') return <input {...props} />;
  return (
    <input
      type="checkbox"
      className="md-task"
      checked={Boolean(props.checked)}
      disabled
      readOnly
      aria-label={props.checked ? 'Done' : 'Not done'}
    />
  );
}
