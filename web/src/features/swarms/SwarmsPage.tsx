import { useEffect, useState } from 'react';
import { listedSwarms, useListSwarmsInfiniteQuery } from '../../api/http';
import { describeError } from '../../api/errors';
import ConnectionIndicator from '../live/ConnectionIndicator';
import EmptyState from '../../components/EmptyState';
import ErrorMessage from '../../components/ErrorMessage';
import Loading from '../../components/Loading';
import { useLive } from '../live/LiveContext';
import CreateSwarmForm from './CreateSwarmForm';
import SwarmCard from './SwarmCard';

export default function SwarmsPage() {
  const live = useLive();
  const { data, isLoading, error, refetch, isFetching, hasNextPage, fetchNextPage, isFetchingNextPage } =
    useListSwarmsInfiniteQuery();
  const swarms = listedSwarms(data);
  const [announce, setAnnounce] = useState('');
  useEffect(() => live?.watchList(), [live]);
  useEffect(() => {
    document.title = 'Swarms · AGA Swarm';
  }, []);

  return (
    <div className="page">
      <h1>Swarms</h1>
      <CreateSwarmForm onCreated={(s) => setAnnounce(`Created “${s.name}”. Press Spawn to start it.`)} />
      <section aria-labelledby="your-swarms" className="swarm-list-section">
        <div className="section-head">
          <h2 id="your-swarms">Your swarms</h2>
          <ConnectionIndicator status={null} />
          <button type="button" onClick={() => refetch()} disabled={isFetching} aria-label="Refresh the list of swarms">
            {isFetching && !isLoading ? 'Refreshing…' : 'Refresh'}
          </button>
        </div>
        <p className="visually-hidden" role="status" aria-live="polite">
          {announce}
        </p>
        {isLoading ? (
          <Loading label="Loading your swarms…" />
        ) : error ? (
          <div>
            <ErrorMessage>{describeError(error)}</ErrorMessage>
            <button type="button" onClick={() => refetch()}>
              Try again
            </button>
          </div>
        ) : !swarms?.length ? (
          <EmptyState title="No swarms yet.">
            Write a goal in the form above and press <strong>Create swarm</strong>. Then press <strong>Spawn</strong> to
            start it, and open it to watch its tree grow and answer its questions.
          </EmptyState>
        ) : (
          <>
            <ul className="swarm-list" aria-label="Swarms">
              {swarms.map((s) => (
                <SwarmCard key={s.id} swarm={s} onAnnounce={setAnnounce} />
              ))}
            </ul>
            {hasNextPage ? (
              <button type="button" className="load-more" onClick={() => fetchNextPage()} disabled={isFetchingNextPage}>
                {isFetchingNextPage ? 'Loading more…' : 'Load more swarms'}
              </button>
            ) : null}
          </>
        )}
      </section>
    </div>
  );
}
