import { Link } from 'react-router';
import { useAppSelector } from '../../app/store';

export default function HistoryBanner({ swarmId }: { swarmId: string }) {
  const seq = useAppSelector((s) => s.scrub.shownSeq);
  return (
    <p className="notice history-banner" role="status">
      Showing history at event {seq.toLocaleString()}. <Link to={`/swarms/${swarmId}/tree`}>Back to the slider</Link>
    </p>
  );
}
