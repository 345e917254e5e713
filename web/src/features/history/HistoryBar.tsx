import { useEffect, useId, useState } from 'react';
import { useNavigate } from 'react-router';
import { useCloneSwarmMutation } from '../../api/http';
import { describeError } from '../../api/errors';
import { useAppDispatch, useAppSelector } from '../../app/store';
import { backToLive, playing, scrubTo, speedChanged } from './scrubSlice';

const SPEEDS = [1, 4, 16, 64, 256];

/** The history slider: scrub, play/pause, step by one event, and back to live. */
export default function HistoryBar({ swarmId, liveSeq }: { swarmId: string; liveSeq: number }) {
  const dispatch = useAppDispatch();
  const scrub = useAppSelector((s) => s.scrub);
  const uid = useId();
  const active = scrub.swarmId === swarmId && scrub.mode === 'history';
  const value = active ? Math.min(scrub.target, liveSeq) : liveSeq;
  const min = active ? scrub.minSeq : 0;
  const isPlaying = active && scrub.playing;
  const navigate = useNavigate();
  const [clone, cloneState] = useCloneSwarmMutation();
  const [forkError, setForkError] = useState<string | null>(null);

  const fork = async () => {
    setForkError(null);
    try {
      const s = await clone({ swarmId, body: { at_seq: value } }).unwrap();
      dispatch(backToLive());
      navigate(`/swarms/${s.id}/tree`);
    } catch (e) {
      setForkError(`Could not fork: ${describeError(e)}`);
    }
  };

  const seek = (target: number) => {
    dispatch(scrubTo({ swarmId, target: Math.max(min, Math.min(liveSeq, target)) }));
  };

  // Playing: one step per tick; reaching the live end returns to live.
  useEffect(() => {
    if (!isPlaying) return undefined;
    const t = setInterval(() => {
      if (scrub.loading) return;
      if (scrub.target >= liveSeq) {
        dispatch(backToLive());
        return;
      }
      const step = Math.max(1, Math.round(scrub.speed / 20));
      dispatch(scrubTo({ swarmId, target: Math.min(liveSeq, scrub.target + step) }));
    }, Math.max(50, 1000 / scrub.speed));
    return () => clearInterval(t);
  }, [isPlaying, scrub.loading, scrub.target, scrub.speed, liveSeq, swarmId, dispatch]);

  const play = () => {
    if (!active || scrub.target >= liveSeq) seek(min);
    dispatch(playing(true));
  };

  return (
    <div className="history-bar" role="group" aria-label="History">
      <button type="button" onClick={() => seek(value - 1)} disabled={value <= min} aria-label="Step back one event">
        ◀︎
      </button>
      {isPlaying ? (
        <button type="button" onClick={() => dispatch(playing(false))} aria-label="Pause history">
          ❚❚
        </button>
      ) : (
        <button type="button" onClick={play} aria-label="Play history" disabled={liveSeq === 0}>
          ▶︎
        </button>
      )}
      <button
        type="button"
        onClick={() => seek(value + 1)}
        disabled={!active || value >= liveSeq}
        aria-label="Step forward one event"
      >
        ▶︎▎
      </button>
      <label htmlFor={`${uid}-slider`} className="visually-hidden">
        History position
      </label>
      <input
        id={`${uid}-slider`}
        type="range"
        className="history-slider"
        min={min}
        max={Math.max(liveSeq, min)}
        step={1}
        value={value}
        onChange={(e) => seek(Number(e.target.value))}
        aria-valuetext={`Event ${value.toLocaleString()} of ${liveSeq.toLocaleString()}${active ? '' : ', live'}`}
        disabled={liveSeq === 0}
      />
      <span className="history-pos" aria-hidden="true">
        {active ? `${value.toLocaleString()} / ${liveSeq.toLocaleString()}` : `Live · ${liveSeq.toLocaleString()}`}
      </span>
      <label htmlFor={`${uid}-speed`} className="visually-hidden">
        Playback speed
      </label>
      <select
        id={`${uid}-speed`}
        value={scrub.speed}
        onChange={(e) => dispatch(speedChanged(Number(e.target.value)))}
        className="speed"
      >
        {SPEEDS.map((s) => (
          <option key={s} value={s}>
            {s}×
          </option>
        ))}
      </select>
      <button
        type="button"
        className={active ? 'primary' : 'live-on'}
        onClick={() => dispatch(backToLive())}
        aria-pressed={!active}
      >
        Live
      </button>
      {active ? (
        <button type="button" onClick={fork} disabled={cloneState.isLoading} title="A paused copy of the swarm as it was at this event">
          {cloneState.isLoading ? 'Forking…' : 'Fork from here'}
        </button>
      ) : null}
      {active && scrub.loading ? <span className="hint">Loading…</span> : null}
      {forkError ? (
        <span className="error" role="alert">
          {forkError}
        </span>
      ) : null}
      {active && scrub.error ? (
        <span className="error" role="alert">
          {scrub.error}
        </span>
      ) : null}
    </div>
  );
}
